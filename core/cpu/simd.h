#pragma once
// SIMD packets for the CPU's elementwise kernels. Vec<T> holds kLanes floats or
// doubles (one 256-bit AVX register) with the arithmetic and comparison operators,
// where_(mask, a, b), and the transcendental functions of SLEEF (the vector math
// library PyTorch's CPU kernels use): the only place in tapegrad that calls SLEEF.
// These are the packet overloads of the vocabulary in core/kernel_math.h, in which the
// activations' math (activations/pointwise*.h) is written once for CUDA and the CPU.
//
// Accuracy (SLEEF's bounds, float32 measured over a dense grid with the tails in
// tests/test_simd.cpp): exp, expm1, log1p, log ≤ 1.0 ulp; erf ≤ 1.1; erfc ≤ 1.5; tanh
// ≤ 3.5 (SLEEF's u35, twice as fast as its 1-ulp one). float64: SLEEF's 1-ulp functions
// (erfc 1.5). Eigen's packet erf, cheaper still, misses the 4-ulp bar (4.7 ulp near 2.9).
//
// vmap1/vmap2 run a packet function over strided tensors on OpenMP threads; every
// element (a run's ragged tail included, padded in a register) takes the packet path,
// so a value never depends on where a thread's range happens to start.
//
// Requires AVX (the library is built with -march=native); include from .cpp files only.
#include <immintrin.h>
#include <sleef.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/kernel_math.h"
#include "core/cpu/loops.h"

namespace tg::cpu {

// GCC vector types (arithmetic, comparison and ?: operators, lane subscripts), the
// same types as __m256 and __m256d.
template <class T>
struct RawVec;
template <>
struct RawVec<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct RawVec<double> {
  typedef double type __attribute__((vector_size(32)));
};

// The lanes of a comparison: all bits set where true.
template <class T>
struct Mask {
  using Raw = decltype(typename RawVec<T>::type{} < typename RawVec<T>::type{});
  Raw m;
  friend Mask operator&&(Mask a, Mask b) { return {a.m & b.m}; }
  friend Mask operator||(Mask a, Mask b) { return {a.m | b.m}; }
};

template <class T>
struct Vec {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  static constexpr int kLanes = 32 / sizeof(T);
  using Raw = typename RawVec<T>::type;
  Raw v;

  Vec() = default;
  Vec(T s) : v(Raw{} + s) {}  // broadcast; implicit, so 2 * x and x > 0 read as in scalar code
  explicit Vec(Raw r) : v(r) {}

  // Lanes [0, k) from p with a byte stride; the others are 0.
  static Vec load(const char* p, int64_t stride, int k) {
    Vec r(T(0));
    if (k == kLanes && stride == (int64_t)sizeof(T)) {
      std::memcpy(&r.v, p, sizeof r.v);
    } else {
      for (int j = 0; j < k; ++j) r.v[j] = *reinterpret_cast<const T*>(p + j * stride);
    }
    return r;
  }
  void store(char* p, int64_t stride, int k) const {
    if (k == kLanes && stride == (int64_t)sizeof(T)) {
      std::memcpy(p, &v, sizeof v);
    } else {
      for (int j = 0; j < k; ++j) *reinterpret_cast<T*>(p + j * stride) = v[j];
    }
  }

  friend Vec operator+(Vec a, Vec b) { return Vec(a.v + b.v); }
  friend Vec operator-(Vec a, Vec b) { return Vec(a.v - b.v); }
  friend Vec operator*(Vec a, Vec b) { return Vec(a.v * b.v); }
  friend Vec operator/(Vec a, Vec b) { return Vec(a.v / b.v); }
  friend Vec operator-(Vec a) { return Vec(-a.v); }
  friend Mask<T> operator<(Vec a, Vec b) { return {a.v < b.v}; }
  friend Mask<T> operator>(Vec a, Vec b) { return {a.v > b.v}; }
  friend Mask<T> operator<=(Vec a, Vec b) { return {a.v <= b.v}; }
  friend Mask<T> operator>=(Vec a, Vec b) { return {a.v >= b.v}; }
  friend Mask<T> operator==(Vec a, Vec b) { return {a.v == b.v}; }
  friend Vec where_(Mask<T> c, Vec a, Vec b) { return Vec(c.m ? a.v : b.v); }
  friend Vec abs_(Vec a) {  // clears the sign bit: abs(−0) = +0, as std::abs
    if constexpr (std::is_same_v<T, float>) {
      return Vec(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v));
    } else {
      return Vec(_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v));
    }
  }

  friend Vec fma_(Vec a, Vec b, Vec c) {
    if constexpr (std::is_same_v<T, float>) {
      return Vec(_mm256_fmadd_ps(a.v, b.v, c.v));
    } else {
      return Vec(_mm256_fmadd_pd(a.v, b.v, c.v));
    }
  }
#define TG_SLEEF_UNARY(name, sleef_f, sleef_d)                \
  friend Vec name(Vec a) {                                     \
    if constexpr (std::is_same_v<T, float>) {                  \
      return Vec(sleef_f(a.v));                                \
    } else {                                                   \
      return Vec(sleef_d(a.v));                                \
    }                                                          \
  }
  TG_SLEEF_UNARY(exp_, Sleef_expf8_u10, Sleef_expd4_u10)
  TG_SLEEF_UNARY(expm1_, Sleef_expm1f8_u10, Sleef_expm1d4_u10)
  TG_SLEEF_UNARY(log_, Sleef_logf8_u10, Sleef_logd4_u10)
  TG_SLEEF_UNARY(tanh_, Sleef_tanhf8_u35, Sleef_tanhd4_u10)
  TG_SLEEF_UNARY(erf_, Sleef_erff8_u10, Sleef_erfd4_u10)
  TG_SLEEF_UNARY(erfc_, Sleef_erfcf8_u15, Sleef_erfcd4_u15)
#undef TG_SLEEF_UNARY
  // SLEEF's log1p covers x ≤ 1e38 (float), 1e307 (double); above, log x is log1p x.
  friend Vec log1p_(Vec a) {
    if constexpr (std::is_same_v<T, float>) {
      return where_(a > T(1e38), log_(a), Vec(Sleef_log1pf8_u10(a.v)));
    } else {
      return where_(a > T(1e307), log_(a), Vec(Sleef_log1pd4_u10(a.v)));
    }
  }
  friend Vec pow_(Vec a, Vec b) {
    if constexpr (std::is_same_v<T, float>) {
      return Vec(Sleef_powf8_u10(a.v, b.v));
    } else {
      return Vec(Sleef_powd4_u10(a.v, b.v));
    }
  }
};

namespace normal_cdf_table {
  // BEGIN generated by scripts/gen_normal_cdf_table.py
  constexpr float kMid[8] = {0.00000000f, 0.750000000f, 1.50000000f, 2.50000000f, 4.00000000f, 6.00000000f, 9.00000000f, 12.1250000f};
  constexpr float kCoef[9][8] = {  // kCoef[j][i]: s^j in piece i
      {0.500000000f, 0.300232470f, 0.205780670f, 0.141331330f, 0.0944106430f, 0.0647793114f, 0.0437987894f, 0.0326830707f},
      {-0.398942292f, -0.173767939f, -0.0902712792f, -0.0456139520f, -0.0212997142f, -0.0102663944f, -0.00475317985f, -0.00266002957f},
      {0.249999940f, 0.0849532560f, 0.0351868719f, 0.0136482259f, 0.00460589025f, 0.00159047381f, 0.000510081765f, 0.000215107080f},
      {-0.132979557f, -0.0366843343f, -0.0124970414f, -0.00383113441f, -0.000958738499f, -0.000241184855f, -5.41498848e-05f, -1.72853997e-05f},
      {0.0624875128f, 0.0143600022f, 0.00411035120f, 0.00101760146f, 0.000192757900f, 3.58427678e-05f, 5.68813084e-06f, 1.38041628e-06f},
      {-0.0265228115f, -0.00518254936f, -0.00126555387f, -0.000257349340f, -3.74667179e-05f, -5.22216806e-06f, -5.89561466e-07f, -1.09559402e-07f},
      {0.0101595707f, 0.00174543040f, 0.000368357694f, 6.23256929e-05f, 7.08675225e-06f, 7.47632214e-07f, 6.06784525e-08f, 8.64426930e-09f},
      {-0.00325830164f, -0.000560133893f, -0.000105863386f, -1.49152556e-05f, -1.40262318e-06f, -1.09852046e-07f, -6.80742618e-09f, -6.89931556e-10f},
      {0.000643529696f, 0.000167816877f, 2.77970103e-05f, 3.33836829e-06f, 2.50652022e-07f, 1.51993458e-08f, 6.89234614e-10f, 5.38442207e-11f},
  };
  // END generated by scripts/gen_normal_cdf_table.py
}  // namespace normal_cdf_table

// Φ(x) and φ(x) for float32 packets, sharing one exp. For a = |x|,
//   Φ(−a) = e^(−a²/2)·H(a),  H(a) = Φ(−a)·e^(a²/2) = ½·erfcx(a/√2),
// H smooth and slowly varying (0.5 at 0, ~1/(a√(2π)) for large a), evaluated by a
// degree-8 polynomial on one of 8 pieces of [0, 13.25] (the half-binades of a + 1; each
// lane picks its piece's coefficients with a permute; scripts/gen_normal_cdf_table.py fits them against mpmath);
// Φ(a) = 1 − Φ(−a) has no cancellation. a²/2 = hi + lo exactly (fma), and
// e^(−a²/2) = e^(−hi)·(1 − lo) to float precision, so the tail keeps its relative
// accuracy (Φ(−13) = 6e-39) where erfc of a rounded x/√2 would be 80 ulp off.
// Measured over a dense grid against float64 (tests/test_simd.cpp): Φ ≤ 3 ulp.
// SLEEF's erf/erfc would cost 4.5–5.4 ns per element here, ten times this.
inline CdfPdf<Vec<float>> normal_cdf_pdf_(Vec<float> x) {
  using V = Vec<float>;
  namespace phi = normal_cdf_table;
  const V ax = abs_(x);
  const __m256 a = _mm256_min_ps(_mm256_set1_ps(13.25f), ax.v);  // NaN stays NaN
  // The piece: the half-binade of a + 1 (1, 1.5, 2, 3, 4, 6, 8, 12), from its exponent and
  // leading mantissa bit. (A NaN lane picks some piece; its s is NaN anyway.)
  const __m256i piece = _mm256_sub_epi32(
      _mm256_srli_epi32(_mm256_castps_si256(_mm256_add_ps(a, _mm256_set1_ps(1.f))), 22), _mm256_set1_epi32(254));
  const auto pick = [&](const float* row) { return _mm256_permutevar8x32_ps(_mm256_loadu_ps(row), piece); };
  const __m256 s = _mm256_sub_ps(a, pick(phi::kMid));  // exact (Sterbenz)
  __m256 h = pick(phi::kCoef[8]);
  for (int j = 7; j >= 0; --j) h = _mm256_fmadd_ps(h, s, pick(phi::kCoef[j]));
  const __m256 aa = _mm256_mul_ps(a, a);
  const __m256 hi = _mm256_mul_ps(aa, _mm256_set1_ps(0.5f));
  const __m256 lo = _mm256_mul_ps(_mm256_fmsub_ps(a, a, aa), _mm256_set1_ps(0.5f));
  const V e(Sleef_expf8_u10(-hi));
  // Φ(−a) = e·h·(1 − lo) = fma(e, h, −(e·h)·lo), rounded once (the correction term's
  // own rounding is below 2^-40 of the result).
  const __m256 eh = _mm256_mul_ps(e.v, h);
  const V q(_mm256_fmadd_ps(e.v, h, _mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), eh), lo)));
  const V ek = e * V(0.3989422804014327f);  // e^(−hi)/√(2π)
  const Mask<float> beyond = ax > V(13.25f);  // Φ(−a) below FLT_MIN, φ too
  const V zero(0.f);
  return {where_(x < zero, where_(beyond, zero, q), V(1.f) - q),
          where_(beyond, zero, V(_mm256_fnmadd_ps(ek.v, lo, ek.v)))};
}

}  // namespace tg::cpu

namespace tg {
template <class T>
struct scalar_of<cpu::Vec<T>> {
  using type = T;
};
}  // namespace tg

namespace tg::cpu {

// out = f(a), f taking and returning Vec<T>.
template <class T, class F>
void vmap1(const Tensor& out, const Tensor& a, F f) {
  using V = Vec<T>;
  parallel_loop<2>({&out, &a}, [&](int64_t n, const std::array<char*, 2>& p, const std::array<int64_t, 2>& s) {
    for (int64_t i = 0; i < n; i += V::kLanes) {
      const int k = (int)std::min<int64_t>(V::kLanes, n - i);
      f(V::load(p[1] + i * s[1], s[1], k)).store(p[0] + i * s[0], s[0], k);
    }
  });
}

// out = f(a, b).
template <class T, class F>
void vmap2(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  using V = Vec<T>;
  parallel_loop<3>({&out, &a, &b},
                   [&](int64_t n, const std::array<char*, 3>& p, const std::array<int64_t, 3>& s) {
                     for (int64_t i = 0; i < n; i += V::kLanes) {
                       const int k = (int)std::min<int64_t>(V::kLanes, n - i);
                       f(V::load(p[1] + i * s[1], s[1], k), V::load(p[2] + i * s[2], s[2], k))
                           .store(p[0] + i * s[0], s[0], k);
                     }
                   });
}

}  // namespace tg::cpu
