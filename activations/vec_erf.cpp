#include "activations/vec_erf.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "activations/unary.h"
#include "activations/kernels.h"
#include "activations/vector_kernels.h"

namespace tg {

using act::Grads;
using act::Needs;

// s(r) = erf(r/(√2σ)). With erf′(z) = (2/√π)e^(−z²):
//   s′(r)   = (2/√π)e^(−r²/2σ²)·1/(√2σ) = √(2/π)/σ · e^(−r²/2σ²)
//   ∂s/∂σ   = (2/√π)e^(−r²/2σ²)·(−r/(√2σ²)) = −s′(r)·r/σ
// and ∂L/∂σ = Σ_vectors (v·g)·∂s/∂σ. At r = 0 the kernel drops the s′/r term
// (it multiplies a zero vector); ∂s/∂σ is written as 0 when s′ underflows (r → ∞).

namespace {
// erf(z)/z = (2/√π)·Σ_n (−1)^n z^2n/(n!(2n+1)): nine terms leave < 1e-8 relative for z² ≤ ½.
struct ErfSeries {
  float c[9];
  constexpr ErfSeries() : c{} {
    const double den[9] = {1, 3, 10, 42, 216, 1320, 9360, 75600, 685440};
    for (int n = 0; n < 9; ++n) c[n] = (float)((n % 2 ? -1 : 1) * 1.1283791670955126 / den[n]);
  }
};
constexpr ErfSeries kErfSeries{};
}  // namespace

// The gate for a batch of vectors: s[i] and, when coef is non-null, s′/r and ∂s/∂σ, from
// r2[i] = ‖v‖². float64 tensors: four vectors per packet in double (SLEEF's erf and
// exp, ≤ 1 ulp). float32 tensors: eight per packet in float, from r, z = r/(√2σ) and
// a = r/σ taken in double and rounded once: s = erf(z) = 1 − 2Φ(−a) with Φ and φ from
// one inline exp (cpu::normal_cdf_pdf_, ≤ 3 ulp; SLEEF's float erf, an out-of-line call,
// cost a quarter of the whole backward), and below a = 1, where 1 − 2Φ(−a) would lose
// digits, the series above; s′ = (2/σ)·φ(a). float32 results are within a few ulp
// (tests/test_activations_vector_batch.cpp). Always inlined into the kernels (GCC's
// -Wmaybe-uninitialized does not follow the batch's r2, filled by batch_sums, into a call).
template <class T>
[[gnu::always_inline]] static inline void vec_erf_gates(int64_t n, const double* r2, double sg, double* s, double* coef,
                                                       double* dsigma) {
  const double inv = 1 / (M_SQRT2 * sg), k = std::sqrt(2 / M_PI) / sg;
  using V = cpu::Vec<T>;
  constexpr int L = V::kLanes;
  const V zero(T(0));
  // Four lanes of double rounded to T, stored at p.
  const auto put4 = [](T* p, __m256d a) {
    if constexpr (std::is_same_v<T, float>) {
      _mm_store_ps(p, _mm256_cvtpd_ps(a));
    } else {
      _mm256_store_pd(p, a);
    }
  };
  for (int64_t i = 0; i < n; i += L) {
    const int lanes = (int)std::min<int64_t>(L, n - i);
    // r, z = r/(√2σ) and, for float, a = r/σ, else −r²/(2σ²), in double, four lanes at a
    // time (unused lanes 0).
    alignas(32) T r[L], z[L], e[L], out[L];
    for (int h = 0; h < L; h += 4) {
      const int k4 = std::clamp(lanes - h, 0, 4);
      const __m256d q = cpu::Vec<double>::load(reinterpret_cast<const char*>(r2 + i + h), sizeof(double), k4).v;
      const __m256d rd = _mm256_sqrt_pd(q), vi = _mm256_set1_pd(inv);
      put4(r + h, rd);
      put4(z + h, _mm256_mul_pd(rd, vi));
      if constexpr (std::is_same_v<T, float>) {
        put4(e + h, _mm256_mul_pd(rd, _mm256_set1_pd(1 / sg)));
      } else {
        put4(e + h, _mm256_mul_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_setzero_pd(), q), vi), vi));
      }
    }
    const auto get = [](const T* p) { return V::load(reinterpret_cast<const char*>(p), sizeof(T), L); };
    const auto put = [&](V v, double* to) {
      if constexpr (std::is_same_v<T, float>) {
        if (lanes == L) {  // eight floats widened to double in two packets
          _mm256_storeu_pd(to + i, _mm256_cvtps_pd(_mm256_castps256_ps128(v.v)));
          _mm256_storeu_pd(to + i + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v.v, 1)));
          return;
        }
      }
      v.store(reinterpret_cast<char*>(out), sizeof(T), L);
      for (int j = 0; j < lanes; ++j) to[i + j] = out[j];
    };
    V sv, ds;  // s and s′(r)
    if constexpr (std::is_same_v<T, float>) {
      const V a = get(e), zv = get(z), z2 = zv * zv;
      const CdfPdf<V> cp = cpu::normal_cdf_pdf_(-a);  // Φ(−a), φ(a)
      V h(kErfSeries.c[8]);
      for (int j = 7; j >= 0; --j) h = fma_(h, z2, V(kErfSeries.c[j]));
      sv = where_(a < V(1.f), zv * h, V(1.f) - V(2.f) * cp.cdf);
      ds = V(T(2 / sg)) * cp.pdf;
    } else {
      sv = erf_(get(z));
      ds = V(T(k)) * exp_(get(e));
    }
    put(sv, s);
    if (!coef) continue;
    const V rv = get(r);
    put(where_(rv > zero, ds / rv, zero), coef);
    put(where_(ds > zero, -ds * rv / V(T(sg)), zero), dsigma);
  }
}

// The CPU kernels (activations/kernels.h); x and g contiguous.
static Tensor vec_erf_cpu(const Tensor& xc, const VectorGrouping& grouping, double sg) {
  const VectorPlan plan(xc.shape(), grouping, "vec_erf");
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "vec_erf", [&](auto zero) {
    using T = decltype(zero);
    act::vector_forward_batched(plan, xc.data<T>(), y.data<T>(),
                                [sg](int64_t, int64_t n, int64_t, const double* r2, double* s) {
                                  vec_erf_gates<T>(n, r2, sg, s, nullptr, nullptr);
                                });
  });
  return y;
}

static Tensor vec_erf_backward_cpu(const Tensor& xs, const Tensor& gc, const VectorGrouping& grouping, double sg,
                                   Tensor& dsigma_out) {
  const VectorPlan plan(xs.shape(), grouping, "vec_erf_backward");
  Tensor dx = empty_like(xs);
  double dsigma = 0;
  cpu::dispatch_float(xs.dtype(), "vec_erf_backward", [&](auto zero) {
    using T = decltype(zero);
    dsigma = act::vector_backward_batched(plan, xs.data<T>(), gc.data<T>(), dx.data<T>(),
                                          [sg](int64_t, int64_t n, int64_t, const double* r2, act::GateBatch& q) {
                                            vec_erf_gates<T>(n, r2, sg, q.s, q.coef, q.dparam);
                                          });
  });
  dsigma_out = full({1}, dsigma, kFloat64);
  return dx;
}

constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&, double)> act::vec_erf_forward_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const VectorGrouping&, double, Tensor&)>
    act::vec_erf_backward_stub;
TG_REGISTER_KERNEL(act::vec_erf_forward_stub, DeviceType::CPU, vec_erf_cpu);
TG_REGISTER_KERNEL(act::vec_erf_backward_stub, DeviceType::CPU, vec_erf_backward_cpu);

Variable vec_erf(const Variable& x, const Variable& sigma, const VectorGrouping& grouping) {
  act::check_float(x.data(), "vec_erf");
  TG_CHECK(sigma.numel() == 1, "vec_erf", "sigma must have one element, got shape {}", shape_str(sigma.shape()));
  const double sg = sigma.item();
  TG_CHECK(sg > 0, "vec_erf", "sigma must be > 0, got {}", sg);
  const VectorPlan plan(x.shape(), grouping, "vec_erf");
  const Tensor xc = x.data().contiguous();
  const Shape sshape = sigma.shape();
  const DType sdtype = sigma.dtype();
  const Device sdevice = sigma.device();
  return record_activation(
      "vec_erf", act::vec_erf_forward_stub(xc.device(), "vec_erf", xc, grouping, sg), {x, sigma}, {xc},
      [grouping, sg, sshape, sdtype, sdevice](const Tensor& g, const Needs& needs, const Grads& saved) {
        Tensor dsigma;
        Tensor dx = act::vec_erf_backward_stub(saved[0].device(), "vec_erf_backward", saved[0], g.contiguous(),
                                               grouping, sg, dsigma);
        return Grads{needs[0] ? dx : Tensor(), needs[1] ? dsigma.to(sdtype).to(sdevice).reshape(sshape) : Tensor()};
      });
}

VecErf::VecErf(VectorGrouping g, double s, DType dtype)
    : grouping(g), sigma(register_parameter("sigma", full({1}, s, dtype))) {
  TG_CHECK(s > 0, "VecErf", "sigma must be > 0, got {}", s);
}

}  // namespace tg
