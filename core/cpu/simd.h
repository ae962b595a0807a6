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
  alignas(32) constexpr float kMid[8] = {0.00000000f, 2.00000000f, 5.00000000f, 10.7500000f, 0.00000000f, 2.00000000f, 5.00000000f, 10.7500000f};
  alignas(32) constexpr float kCoef[11][8] = {  // kCoef[j][i]: s^j in piece i (i mod 4)
      {0.500000000f, 0.168101996f, 0.0769193023f, 0.0367977731f, 0.500000000f, 0.168101996f, 0.0769193023f, 0.0367977731f},
      {-0.398942292f, -0.0627382770f, -0.0143457577f, -0.00336621935f, -0.398942292f, -0.0627382770f, -0.0143457577f, -0.00336621935f},
      {0.250000447f, 0.0213127229f, 0.00259526400f, 0.000305462425f, 0.250000447f, 0.0213127229f, 0.00259526400f, 0.000305462425f},
      {-0.132986575f, -0.00670425268f, -0.000456466310f, -2.74997947e-05f, -0.132986575f, -0.00670425268f, -0.000456466310f, -2.74997947e-05f},
      {0.0625373647f, 0.00197604136f, 7.82152783e-05f, 2.45657338e-06f, 0.0625373647f, 0.00197604136f, 7.82152783e-05f, 2.45657338e-06f},
      {-0.0267305169f, -0.000550578814f, -1.30963645e-05f, -2.18248218e-07f, -0.0267305169f, -0.000550578814f, -1.30963645e-05f, -2.18248218e-07f},
      {0.0107018920f, 0.000145877319f, 2.13979297e-06f, 1.92507521e-08f, 0.0107018920f, 0.000145877319f, 2.13979297e-06f, 1.92507521e-08f},
      {-0.00415343139f, -3.66418208e-05f, -3.31905255e-07f, -1.61295621e-09f, -0.00415343139f, -3.66418208e-05f, -3.31905255e-07f, -1.61295621e-09f},
      {0.00152835250f, 8.94032109e-06f, 5.21211554e-08f, 1.36883962e-10f, 0.00152835250f, 8.94032109e-06f, 5.21211554e-08f, 1.36883962e-10f},
      {-0.000445584999f, -2.41927228e-06f, -1.05825064e-08f, -1.67250606e-11f, -0.000445584999f, -2.41927228e-06f, -1.05825064e-08f, -1.67250606e-11f},
      {6.86390267e-05f, 5.37605843e-07f, 1.58197699e-09f, 1.51042547e-12f, 6.86390267e-05f, 5.37605843e-07f, 1.58197699e-09f, 1.51042547e-12f},
  };
  constexpr float kExp[5] = {0.499999970f, 0.166665211f, 0.0416672267f, 0.00836869422f, 0.00138796843f};  // c2..c6 of e^r
  // END generated by scripts/gen_normal_cdf_table.py

// e^z for −105.2 ≤ z ≤ 0 (NaN propagates; below −87.33, where e^z leaves the normal
// floats, 0): z = k·ln2 + r with ln2 in two parts (Cody–Waite; k·0.693359375 is exact and
// so is z − k·0.693359375), e^r by the kExp polynomial, then the exponent of 2^k.
// Within 1 ulp (tests/test_simd.cpp measures it through Φ and φ).
inline __m256 exp_nonpositive(__m256 z) {
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-0.693359375f), z);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(kExp[4]);
  for (int j = 3; j >= 0; --j) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExp[j]));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  const __m256 two_k = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
  // z ≥ −87.33 keeps k ≥ −126 (a normal 2^k); the mask also passes NaN lanes on.
  return _mm256_and_ps(_mm256_mul_ps(p, two_k), _mm256_cmp_ps(z, _mm256_set1_ps(-87.33f), _CMP_NLT_UQ));
}
}  // namespace normal_cdf_table

// Φ(x) and φ(x) for float32 packets, sharing one exp. For a = |x|,
//   Φ(−a) = e^(−a²/2)·H(a),  H(a) = Φ(−a)·e^(a²/2) = ½·erfcx(a/√2),
// H smooth and slowly varying (0.5 at 0, ~1/(a√(2π)) for large a), evaluated by a
// degree-10 polynomial on one of 4 pieces of [0, 14.5] (the binades of a + 1; each lane
// picks its piece's coefficients with an in-lane permute; scripts/gen_normal_cdf_table.py fits them against mpmath);
// Φ(a) = 1 − Φ(−a) has no cancellation. a²/2 = hi + lo exactly (fma), and
// e^(−a²/2) = e^(−hi)·(1 − lo) to float precision, so the tail keeps its relative
// accuracy (Φ(−13) = 6e-39) where erfc of a rounded x/√2 would be 80 ulp off.
// Measured over a dense grid against float64 (tests/test_simd.cpp): Φ ≤ 3 ulp.
// SLEEF's erf/erfc would cost 4.5–5.4 ns per element here, ten times this.
inline CdfPdf<Vec<float>> normal_cdf_pdf_(Vec<float> x) {
  namespace phi = normal_cdf_table;
  // a = min(|x|, 14.5) (a NaN stays NaN): beyond 14.5, e^(−a²/2) is exactly 0 even without
  // flush-to-zero, so Φ and φ reach 0 (and Φ(+a) 1) by themselves.
  const __m256 a = _mm256_min_ps(_mm256_set1_ps(14.5f), abs_(x).v);
  // The piece: the binade of a + 1 (1, 2, 4, 8), its exponent. (A NaN lane picks some
  // piece; its s is NaN anyway.) vpermilps looks up 4 entries within each 128-bit half.
  const __m256i piece = _mm256_sub_epi32(
      _mm256_srli_epi32(_mm256_castps_si256(_mm256_add_ps(a, _mm256_set1_ps(1.f))), 23), _mm256_set1_epi32(127));
  const auto pick = [&](const float* row) { return _mm256_permutevar_ps(_mm256_load_ps(row), piece); };
  const __m256 s = _mm256_sub_ps(a, pick(phi::kMid));  // exact (Sterbenz)
  __m256 h = pick(phi::kCoef[10]);
  for (int j = 9; j >= 0; --j) h = _mm256_fmadd_ps(h, s, pick(phi::kCoef[j]));
  // −a²/2 = nh + nl exactly; e^(−a²/2) = e^nh·(1 + nl) to float precision.
  const __m256 aa = _mm256_mul_ps(a, a);
  const __m256 nh = _mm256_mul_ps(aa, _mm256_set1_ps(-0.5f));
  const __m256 nl = _mm256_mul_ps(_mm256_fmsub_ps(a, a, aa), _mm256_set1_ps(-0.5f));
  const __m256 e = phi::exp_nonpositive(nh);
  // Φ(−a) = e·h·(1 + nl) = fma(e, h, (e·h)·nl), rounded once (the correction term's own
  // rounding is below 2^-40 of the result).
  const __m256 q = _mm256_fmadd_ps(e, h, _mm256_mul_ps(_mm256_mul_ps(e, h), nl));
  const __m256 ek = _mm256_mul_ps(e, _mm256_set1_ps(0.3989422804014327f));  // e^nh/√(2π)
  // Φ(x) = q for x < 0, 1 − q for x ≥ 0: blendv picks by x's sign bit (Φ(±0) = ½ either way).
  return {Vec<float>(_mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(1.f), q), q, x.v)),
          Vec<float>(_mm256_fmadd_ps(ek, nl, ek))};
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
