#pragma once
// Shared machinery of the elementwise activations (included by their .cpp files only).
// An elementwise activation is a forward y = f(x) and a backward dx = df(g, s), where
// s is the input or the output: whichever the derivative can be computed from. Each
// is one strided parallel pass (core/cpu/loops.h) with no temporaries.
#include <cmath>

#include "activations/saved.h"
#include "core/cpu/loops.h"

namespace tg::act {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

enum class From { Input, Output };

inline void check_cpu_float(const Tensor& x, const char* op) {
  TG_CHECK(x.device().is_cpu(), op, "device {} is not supported (CPU only)", x.device().str());
  TG_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, op, "expected a float32 or float64 tensor, got {}",
           dtype_name(x.dtype()));
}

// Contiguous operands take an `omp simd` loop (selects such as x > 0 ? x : s·x
// vectorize instead of branching); other layouts go through cpu::map1/map2.
template <class Body>
void parallel_simd_range(int64_t n, Body&& body) {
#pragma omp parallel for schedule(static) if (n > cpu::kParallelGrain)
  for (int64_t c = 0; c < (n + 4095) / 4096; ++c) body(c * 4096, std::min(n, (c + 1) * 4096));
}

// out = f(x), f called with float or double values.
template <class F>
Tensor map_unary(const Tensor& x, const char* op, F f) {
  Tensor out = empty_like(x);
  cpu::dispatch_float(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    if (x.is_contiguous()) {
      const T* px = x.data<T>();
      T* po = out.data<T>();
      parallel_simd_range(x.numel(), [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) po[i] = (T)f(px[i]);
      });
    } else {
      cpu::map1<T, T>(out, x, [&](T v) { return (T)f(v); });
    }
  });
  return out;
}

// out = f(a, b), same dtype and shape.
template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  TG_CHECK(a.dtype() == b.dtype(), op, "dtype mismatch: {} vs {}", dtype_name(a.dtype()), dtype_name(b.dtype()));
  Tensor out = empty_like(a);
  cpu::dispatch_float(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    if (a.is_contiguous() && b.is_contiguous()) {
      const T *pa = a.data<T>(), *pb = b.data<T>();
      T* po = out.data<T>();
      parallel_simd_range(a.numel(), [&](int64_t s, int64_t e) {
#pragma omp simd
        for (int64_t i = s; i < e; ++i) po[i] = (T)f(pa[i], pb[i]);
      });
    } else {
      cpu::map2<T, T, T>(out, a, b, [&](T u, T v) { return (T)f(u, v); });
    }
  });
  return out;
}

// y = f(x); backward dx = df(g, s) with s = x or y according to `from`.
template <class F, class DF>
Variable unary_activation(const char* name, const Variable& x, From from, F f, DF df) {
  check_cpu_float(x.data(), name);
  Tensor y = map_unary(x.data(), name, f);
  Tensor s = from == From::Output ? y : x.data();
  return record_activation(name, y, {x}, {s}, [name, df](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{map_binary(g, saved[0], name, df)};
  });
}

}  // namespace tg::act
