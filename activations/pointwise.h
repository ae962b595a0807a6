#pragma once
// The contract of the elementwise activations' math, written once for the CPU loops
// (activations/unary.h) and the CUDA kernels (activations/cuda/unary.cu).
//
// An op is a small struct holding the activation's parameters, with
//   template <class T> TG_HD T f(T x) const;        the forward, y = f(x)
//   template <class T> TG_HD T df(T g, T s) const;  the backward, dx = g·dy/dx, where s
//                                                   is the input or the output (the
//                                                   activation says which)
// for T = float and double on CUDA, and for SIMD packets of them on the CPU
// (core/cpu/simd.h). So the formulas use the vocabulary of core/kernel_math.h:
// exp_, expm1_, log1p_, tanh_, erfc_, … for the math functions, where_(c, a, b) for
// c ? a : b, T(k) for constants, and they stay in T's precision (a packet has no
// double view of a float). The families live in pointwise_*.h.
//
// These headers are compiled by nvcc, so they follow the rules of device code: no
// Tensor or fmt (nvcc cannot parse fmt), no exceptions, and max_/min_ below instead
// of std::max/min (which are host-only constexpr functions).
#include "activations/special.h"  // TG_HD, special:: constants
#include "core/kernel_math.h"

namespace tg::act {

// std::max and std::min, NaN behaviour included (a NaN first argument is returned).
template <class T>
TG_HD inline T max_(T a, T b) {
  return where_(a < b, b, a);
}
template <class T>
TG_HD inline T min_(T a, T b) {
  return where_(b < a, b, a);
}

}  // namespace tg::act
