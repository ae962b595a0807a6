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

// out = f(x), f called with float or double values.
template <class F>
Tensor map_unary(const Tensor& x, const char* op, F f) {
  Tensor out = empty_like(x);
  cpu::dispatch_float(x.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    cpu::map1<T, T>(out, x, [&](T v) { return (T)f(v); });
  });
  return out;
}

// out = f(a, b), same dtype.
template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  TG_CHECK(a.dtype() == b.dtype(), op, "dtype mismatch: {} vs {}", dtype_name(a.dtype()), dtype_name(b.dtype()));
  Tensor out = empty_like(a);
  cpu::dispatch_float(a.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    cpu::map2<T, T, T>(out, a, b, [&](T u, T v) { return (T)f(u, v); });
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
