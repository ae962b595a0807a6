// The CPU's SIMD math (core/cpu/simd.h: SLEEF, and its own inline exp, expm1, Φ): float32 error in ulps against a
// float64 reference over a dense grid with the tails, and the packet loops' handling of
// ragged tails and strided operands.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "activations/activations.h"
#include "activations/pointwise_basic.h"
#include "activations/pointwise_smooth.h"
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
    double bound;  // SLEEF's: 1.0 ulp (u10; erf measured 1.09), 1.5 (erfc, u15), 3.5 (tanh, u35);
                   // exp, expm1 and log1p on [0, 1] are tapegrad's own inline ones (fmath):
                   // 0.88, 1.52 and 0.92 measured
  };
#define TG_ULP(f, lo, hi)                                                                                      \
  [] {                                                                                                        \
    return max_ulp_error([](V x) { return f##_(x); }, [](double x) { return std::f(x); }, lo, hi);           \
  }
  const Case cases[] = {
      {"exp", TG_ULP(exp, -87.3f, 88.7f), 1.0},         {"expm1", TG_ULP(expm1, -30, 88.7f), 1.6},
      {"log1p", TG_ULP(log1p, -0.9999999f, FLT_MAX), 1.0}, {"log", TG_ULP(log, FLT_MIN, FLT_MAX), 1.0},
      {"tanh", TG_ULP(tanh, -20, 20), 3.5},              {"erf", TG_ULP(erf, -6, 6), 1.1},
      {"erfc", TG_ULP(erfc, -6, 9.2f), 1.5},
      {"log1p_unit", [] { return max_ulp_error([](V x) { return log1p_unit_(x); }, [](double x) { return std::log1p(x); }, 0, 1); },
       1.0},
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

// Φ in float64: ½erfc(−x/√2); the rounding of x/√2 costs at most 2·(x²/2)·2^-53
// relative, 1e-14 at x = −13, far below a float's ulp.
double phi_ref(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double pdf_ref(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

TEST_CASE("simd: the float32 packet normal CDF and density are within 3 ulp and GELU within 4, both tails included") {
  const double cdf = max_ulp_error([](V x) { return normal_cdf_pdf_(x).cdf; }, phi_ref, -13.2f, 9.0f);
  const double pdf = max_ulp_error([](V x) { return normal_cdf_pdf_(x).pdf; }, pdf_ref, -13.5f, 13.5f);
  // GELU, x·Φ(x), where Φ is a normal float (a tiny band near −13.1 has x·Φ normal but
  // Φ itself subnormal, flushed to 0 inside the library).
  const double gelu = max_ulp_error([](V x) { return x * normal_cdf_pdf_(x).cdf; },
                                    [](double x) { return phi_ref(x) < FLT_MIN ? 0.0 : x * phi_ref(x); },
                                    -13.2f, 9.0f);
  MESSAGE("Phi " << cdf << " ulp, phi " << pdf << " ulp, gelu " << gelu << " ulp");
  CHECK(cdf <= 3.0);
  CHECK(pdf <= 3.0);
  CHECK(gelu <= 4.0);  // the bar; Φ's error plus the product's rounding
  // The exact endpoints and what lies beyond the table.
  float out[8];
  const float in[8] = {0.0f, -0.0f, -13.3f, 13.3f, -INFINITY, INFINITY, NAN, -40.0f};
  normal_cdf_pdf_(V::load(reinterpret_cast<const char*>(in), sizeof(float), 8)).cdf.store(reinterpret_cast<char*>(out), sizeof(float), 8);
  CHECK(out[0] == 0.5f);
  CHECK(out[1] == 0.5f);
  CHECK(out[2] == 0.0f);
  CHECK(out[3] == 1.0f);
  CHECK(out[4] == 0.0f);
  CHECK(out[5] == 1.0f);
  CHECK(std::isnan(out[6]));
  CHECK(out[7] == 0.0f);
  normal_cdf_pdf_(V::load(reinterpret_cast<const char*>(in), sizeof(float), 8)).pdf.store(reinterpret_cast<char*>(out), sizeof(float), 8);
  CHECK(out[0] == doctest::Approx(0.3989422804014327).epsilon(1e-7));
  CHECK(out[4] == 0.0f);
  CHECK(out[5] == 0.0f);
  CHECK(std::isnan(out[6]));
}

TEST_CASE("simd: float32 softplus is within 2 ulp, both tails included") {
  // log(1 + e^x) in float64 (log1p of e^x for x ≤ 0, x + log1p(e^−x) above): far below a
  // float's ulp. Above the threshold 20 softplus returns x (torch's), which the float rounds to.
  const act::Softplus sp{1.0, 20.0};
  const double err = max_ulp_error([&](V x) { return sp.f(x); },
                                   [](double x) { return x > 20 ? x : std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); },
                                   -87.0f, 40.0f);
  MESSAGE("softplus: " << err << " ulp");
  CHECK(err <= 2.0);
}

TEST_CASE("simd: a lane's normal CDF and density do not depend on the other lanes of its packet") {
  // A packet with every lane in |x| ≤ 3 evaluates the central polynomial alone, any other
  // the tail pieces too: a lane of the grid gets the same bits either way (the grid is
  // sorted by magnitude, so its packets mostly take the first branch; with one lane
  // moved to 4.5 every packet takes the second).
  const std::vector<float> xs = dense_grid(-14.0f, 14.0f);
  size_t differ = 0;
  for (size_t i = 0; i + V::kLanes <= xs.size(); i += V::kLanes) {
    const V x = V::load(reinterpret_cast<const char*>(&xs[i]), sizeof(float), V::kLanes);
    V moved = x;
    moved.v[V::kLanes - 1] = 4.5f;
    const CdfPdf<V> p = normal_cdf_pdf_(x), q = normal_cdf_pdf_(moved);
    for (int j = 0; j + 1 < V::kLanes; ++j)
      differ += std::bit_cast<uint32_t>(p.cdf.v[j]) != std::bit_cast<uint32_t>(q.cdf.v[j]) ||
                std::bit_cast<uint32_t>(p.pdf.v[j]) != std::bit_cast<uint32_t>(q.pdf.v[j]);
  }
  CHECK(differ == 0);
}

TEST_CASE("simd: GELU's float32 gradient is within a few ulps of its own size scale") {
  // dGELU = Φ(x) + x·φ(x) passes through 0 near x = −0.75, where no formula has a small
  // relative error; so the error is measured in ulps of max(Φ, |x|·φ), the larger term.
  const std::vector<float> xs = dense_grid(-13.0f, 9.0f);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); i += V::kLanes) {
    const int k = (int)std::min<size_t>(V::kLanes, xs.size() - i);
    float y[V::kLanes];
    act::Gelu{}.df(V(1.0f), V::load(reinterpret_cast<const char*>(&xs[i]), sizeof(float), k))
        .store(reinterpret_cast<char*>(y), sizeof(float), k);
    for (int j = 0; j < k; ++j) {
      const double x = xs[i + j], scale = std::max(phi_ref(x), std::abs(x) * pdf_ref(x));
      if (scale < FLT_MIN) continue;
      worst = std::max(worst, std::abs((double)y[j] - (phi_ref(x) + x * pdf_ref(x))) / ulp_at(scale));
    }
  }
  MESSAGE("dgelu: " << worst << " ulp of max(Phi, |x| phi)");
  CHECK(worst <= 4.0);
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

TEST_CASE("simd: outputs large enough to be streamed hold the same values as plainly stored ones") {
  // 2 × 4 × 700 × 760 floats = 17 MB ≥ kStreamBytes: the whole-tensor outputs are written
  // with streaming stores; each 1 × 4 × 700 × 760 half (8.5 MB) is not.
  Generator gen(11);
  const Tensor x = randn({2, 4, 700, 760}, kFloat32, &gen), g = randn({2, 4, 700, 760}, kFloat32, &gen);
  REQUIRE((int64_t)x.nbytes() >= cpu::kStreamBytes);
  REQUIRE((int64_t)x.nbytes() / 2 < cpu::kStreamBytes);
  Variable xv(x, true), w(from_vector(std::vector<double>{0.1, 0.2, 0.3, 0.4}, {4}).to(kFloat32), true);
  Variable y = gelu(xv), p = prelu(xv, w), p1 = prelu(xv, Variable(full({1}, 0.25).to(kFloat32), true));
  y.backward(g);
  const Tensor dx = xv.grad().clone();
  for (int64_t h = 0; h < 2; ++h) {
    Variable xh(x.slice(0, h, h + 1).contiguous(), true);
    Variable yh = gelu(xh);
    yh.backward(g.slice(0, h, h + 1).contiguous());
    CHECK(yh.data().to_vector<float>() == y.data().slice(0, h, h + 1).contiguous().to_vector<float>());
    CHECK(xh.grad().to_vector<float>() == dx.slice(0, h, h + 1).contiguous().to_vector<float>());
    CHECK(prelu(Variable(xh.data()), w).data().to_vector<float>() == p.data().slice(0, h, h + 1).contiguous().to_vector<float>());
  }
  // PReLU's one shared slope runs in rows that need not divide the size.
  const std::vector<float> xs = x.to_vector<float>(), ps = p1.data().to_vector<float>();
  for (size_t i = 0; i < xs.size(); i += 9973) CHECK(ps[i] == (xs[i] > 0 ? xs[i] : 0.25f * xs[i]));
}

namespace {
// Partial packets k = 0..L of T loaded from and stored to the last k elements before a
// page the process may not touch (PROT_NONE): the lanes past k read and write nothing.
template <class T>
void check_partial_packets() {
  using V = tg::cpu::Vec<T>;
  constexpr int L = V::kLanes;
  const long page = sysconf(_SC_PAGESIZE);
  char* base = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(base != MAP_FAILED);
  REQUIRE(mprotect(base + page, page, PROT_NONE) == 0);
  for (int k = 0; k <= L; ++k) {
    INFO("k = " << k << (sizeof(T) == 4 ? " float32" : " float64"));
    T* p = reinterpret_cast<T*>(base + page) - k;  // k elements, then the guard page
    for (int j = 0; j < k; ++j) p[j] = T(j + 1);
    const V v = V::load(reinterpret_cast<const char*>(p), sizeof(T), k);
    for (int j = 0; j < L; ++j) CHECK(v.v[j] == (j < k ? T(j + 1) : T(0)));
    T* q = reinterpret_cast<T*>(base + page) - k;
    for (int j = 0; j < k; ++j) q[j] = T(-1);
    (v * V(T(2))).store(reinterpret_cast<char*>(q), sizeof(T), k);
    for (int j = 0; j < k; ++j) CHECK(q[j] == T(2 * (j + 1)));
  }
  munmap(base, 2 * page);
}
}  // namespace

TEST_CASE("simd: partial packets (ragged tails) read and write only their own lanes, up to a guard page") {
  check_partial_packets<float>();
  check_partial_packets<double>();
}
