#pragma once
// Shared machinery of the elementwise activations (included by their .cpp files only).
// An elementwise activation is an op of activations/pointwise.h: a forward y = f(x)
// and a backward dx = df(g, s), where s is the input or the output: whichever the
// derivative can be computed from. On the CPU each direction is one strided parallel
// pass over SIMD packets (core/kernel.h) with no temporaries; on a CUDA device, one
// kernel (activations/cuda/unary.cu) running the same op. Both are reached through the
// op's dispatch tables, UnaryKernels<Op>.
#include "activations/pointwise.h"
#include "activations/saved.h"
#include "core/kernel.h"

namespace tg::act {

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

enum class From { Input, Output };

// A float32 or float64 tensor on any device.
inline void check_float(const Tensor& x, const char* op) {
  TG_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, op, "expected a float32 or float64 tensor, got {}",
           dtype_name(x.dtype()));
}

// The dispatch tables of an elementwise op: forward y = op.f(x) (y contiguous, x any
// layout) and backward dx = op.df(g, s) (g and s any layout, same shape and dtype).
// The CPU kernels below, on SIMD packets, are in place for every Op; the CUDA backend
// registers its kernels for the ops of TG_POINTWISE_OPS (activations/cuda/unary.cpp).
template <class Op>
struct UnaryKernels {
  static Tensor cpu_forward(const Op& op, const Tensor& x, const char* name) {
    Tensor y = empty_like(x);
    cpu::dispatch_float(x.dtype(), name, [&](auto zero) {
      using V = cpu::Vec<decltype(zero)>;
      cpu::vmap1<decltype(zero)>(y, x, [op](V v) { return op.f(v); });  // op by value: see vmap1
    });
    return y;
  }
  static Tensor cpu_backward(const Op& op, const Tensor& g, const Tensor& s, const char* name) {
    Tensor dx = empty_like(s);
    cpu::dispatch_float(s.dtype(), name, [&](auto zero) {
      using V = cpu::Vec<decltype(zero)>;
      cpu::vmap2<decltype(zero)>(dx, g, s, [op](V gv, V sv) { return op.df(gv, sv); });
    });
    return dx;
  }
  static inline constinit DispatchStub<Tensor (*)(const Op&, const Tensor&, const char*)> forward{&cpu_forward};
  static inline constinit DispatchStub<Tensor (*)(const Op&, const Tensor&, const Tensor&, const char*)> backward{
      &cpu_backward};
};

// y = op.f(x) on x's device.
template <class Op>
Tensor unary_forward(const Op& op, const Tensor& x, const char* name) {
  return UnaryKernels<Op>::forward(x.device(), name, op, x, name);
}

// dx = op.df(g, s) on s's device.
template <class Op>
Tensor unary_backward(const Op& op, const Tensor& g, const Tensor& s, const char* name) {
  TG_CHECK(g.dtype() == s.dtype(), name, "dtype mismatch: {} vs {}", dtype_name(g.dtype()), dtype_name(s.dtype()));
  return UnaryKernels<Op>::backward(s.device(), name, op, g, s, name);
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
