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
  friend Vec abs_(Vec a) { return where_(a < T(0), -a, a); }

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
