// The CPU's SIMD math (core/cpu/simd.h, SLEEF): float32 error in ulps against a
// float64 reference over a dense grid with the tails, and the packet loops' handling of
// ragged tails and strided operands.
#include <doctest/doctest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "activations/activations.h"
#include "core/cpu/simd.h"

using namespace tg;

namespace {

using V = cpu::Vec<float>;

// Every 512th float of either sign (each binade gets 16384 points: the tails and the
// tiny magnitudes included), plus 2^20 evenly spaced points, all within [lo, hi].
std::vector<float> dense_grid(float lo, float hi) {
  std::vector<float> xs;
  for (uint32_t bits = 0; bits < 0x7f800000u; bits += 512)
    for (float s : {1.0f, -1.0f}) {
      const float x = s * std::bit_cast<float>(bits);
      if (x >= lo && x <= hi) xs.push_back(x);
    }
  const int n = 1 << 20;
  for (int i = 0; i <= n; ++i) xs.push_back(lo + (hi - lo) * (float)((double)i / n));
  return xs;
}

// The spacing of floats at |y| (the ulp of the float nearest to y).
double ulp_at(double y) {
  const float f = std::abs((float)y);
  return (double)std::nextafter(f, FLT_MAX) - (double)f;
}

// The largest error of the packet function in ulps of the float64 reference, over
// the grid points whose reference is a normal float (denormal results are flushed
// inside the library's compute, where FTZ is on by default).
template <class VecFn, class RefFn>
double max_ulp_error(VecFn vf, RefFn ref, float lo, float hi) {
  const std::vector<float> xs = dense_grid(lo, hi);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); i += V::kLanes) {
    const int k = (int)std::min<size_t>(V::kLanes, xs.size() - i);
    float y[V::kLanes];
    vf(V::load(reinterpret_cast<const char*>(&xs[i]), sizeof(float), k))
        .store(reinterpret_cast<char*>(y), sizeof(float), k);
    for (int j = 0; j < k; ++j) {
      const double r = ref((double)xs[i + j]);
      if (std::abs(r) < FLT_MIN || std::abs(r) > FLT_MAX) continue;
      worst = std::max(worst, std::abs((double)y[j] - r) / ulp_at(r));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("simd: float32 math functions are within their ulp bounds, tails included") {
  struct Case {
    const char* name;
    double (*measure)();
    double bound;  // SLEEF's: 1.0 ulp (u10; erf measured 1.09), 1.5 (erfc, u15), 3.5 (tanh, u35)
  };
#define TG_ULP(f, lo, hi)                                                                                      \
  [] {                                                                                                        \
    return max_ulp_error([](V x) { return f##_(x); }, [](double x) { return std::f(x); }, lo, hi);           \
  }
  const Case cases[] = {
      {"exp", TG_ULP(exp, -87.3f, 88.7f), 1.0},         {"expm1", TG_ULP(expm1, -30, 88.7f), 1.0},
      {"log1p", TG_ULP(log1p, -0.9999999f, FLT_MAX), 1.0}, {"log", TG_ULP(log, FLT_MIN, FLT_MAX), 1.0},
      {"tanh", TG_ULP(tanh, -20, 20), 3.5},              {"erf", TG_ULP(erf, -6, 6), 1.1},
      {"erfc", TG_ULP(erfc, -6, 9.2f), 1.5},
  };
#undef TG_ULP
  for (const Case& c : cases) {
    const double err = c.measure();
    MESSAGE(std::string(c.name) << ": max error " << err << " ulp");
    CHECK_MESSAGE(err <= c.bound, std::string(c.name));
  }
  // The measure itself can fail: a float polynomial's worth of error (2^-20 relative)
  // is several ulps.
  CHECK(max_ulp_error([](V x) { return exp_(x) * (1 + 0x1p-20f); }, [](double x) { return std::exp(x); }, -1, 1) > 4);
}

TEST_CASE("simd: ragged tails and strided operands take the same packet math as the bulk") {
  // 37 rows of 5: a transposed view is strided, and 185 = 23 packets of 8 plus 1.
  std::vector<double> v(185);
  for (size_t i = 0; i < v.size(); ++i) v[i] = -6 + 12.0 * (double)i / 184;
  const Tensor x = from_vector(v, {37, 5}).to(kFloat32);
  const std::vector<float> y = tg::gelu(Variable(x)).data().to_vector<float>();
  const std::vector<float> yt = tg::gelu(Variable(x.t())).data().t().contiguous().to_vector<float>();
  const std::vector<float> ytail = tg::gelu(Variable(x.reshape({185}).slice(0, 184, 185))).data().to_vector<float>();
  CHECK(y == yt);
  CHECK(ytail[0] == y[184]);
  CHECK(y[184] == doctest::Approx(6 * 0.5 * std::erfc(-6 / std::sqrt(2.0))).epsilon(1e-6));
}
