#pragma once
// The contract of the elementwise activations' math, written once for the CPU loops
// (activations/unary.h) and the CUDA kernels (activations/cuda/unary.cu).
//
// An op is a small struct holding the activation's parameters, with
//   template <class T> TG_HD T f(T x) const;        the forward, y = f(x)
//   template <class T> TG_HD T df(T g, T s) const;  the backward, dx = g·dy/dx, where s
//                                                   is the input or the output (the
//                                                   activation says which)
// for T = float and double. Some ops compute in double for float inputs; their
// comments say why. The families live in pointwise_*.h.
//
// These headers are compiled by nvcc, so they follow the rules of device code: no
// Tensor or fmt (nvcc cannot parse fmt), no exceptions, the <cmath> functions only
// (they have device overloads), and max_/min_ below instead of std::max/min (which
// are host-only constexpr functions).
#include <cmath>

#include "activations/special.h"  // TG_HD, special::Phi

namespace tg::act {

// std::max and std::min, NaN behaviour included (a NaN first argument is returned).
template <class T>
TG_HD inline T max_(T a, T b) {
  return a < b ? b : a;
}
template <class T>
TG_HD inline T min_(T a, T b) {
  return b < a ? b : a;
}

}  // namespace tg::act
