#pragma once
// Shared machinery of the elementwise activations (included by their .cpp files only).
// An elementwise activation is an op of activations/pointwise.h: a forward y = f(x)
// and a backward dx = df(g, s), where s is the input or the output: whichever the
// derivative can be computed from. On the CPU each direction is one strided parallel
// pass over SIMD packets (core/cpu/simd.h) with no temporaries; on a CUDA device, one
// kernel (activations/cuda/unary.cu) running the same op.
#include "activations/pointwise.h"
#include "activations/saved.h"
#include "core/cpu/simd.h"
#ifdef TG_WITH_CUDA
#include "activations/cuda/unary.h"
#endif

namespace tg::act {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

enum class From { Input, Output };

// A float32 or float64 tensor on any device.
inline void check_float(const Tensor& x, const char* op) {
  TG_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, op, "expected a float32 or float64 tensor, got {}",
           dtype_name(x.dtype()));
}

// y = op.f(x) on x's device. On the CPU the op runs on SIMD packets (core/cpu/simd.h).
template <class Op>
Tensor unary_forward(const Op& op, const Tensor& x, const char* name) {
#ifdef TG_WITH_CUDA
  if (x.device().is_cuda()) return cuda::unary_forward(op, x, name);
#endif
  Tensor y = empty_like(x);
  cpu::dispatch_float(x.dtype(), name, [&](auto zero) {
    using V = cpu::Vec<decltype(zero)>;
    cpu::vmap1<decltype(zero)>(y, x, [&op](V v) { return op.f(v); });
  });
  return y;
}

// dx = op.df(g, s) on s's device.
template <class Op>
Tensor unary_backward(const Op& op, const Tensor& g, const Tensor& s, const char* name) {
  TG_CHECK(g.dtype() == s.dtype(), name, "dtype mismatch: {} vs {}", dtype_name(g.dtype()), dtype_name(s.dtype()));
#ifdef TG_WITH_CUDA
  if (s.device().is_cuda()) return cuda::unary_backward(op, g, s, name);
#endif
  Tensor dx = empty_like(s);
  cpu::dispatch_float(s.dtype(), name, [&](auto zero) {
    using V = cpu::Vec<decltype(zero)>;
    cpu::vmap2<decltype(zero)>(dx, g, s, [&op](V gv, V sv) { return op.df(gv, sv); });
  });
  return dx;
}

// y = op.f(x); backward dx = op.df(g, s) with s = x or y according to `from`.
template <class Op>
Variable unary_activation(const char* name, const Variable& x, From from, const Op& op) {
  check_float(x.data(), name);
  Tensor y = unary_forward(op, x.data(), name);
  Tensor s = from == From::Output ? y : x.data();
  return record_activation(name, y, {x}, {s}, [name, op](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{unary_backward(op, g, saved[0], name)};
  });
}

}  // namespace tg::act
