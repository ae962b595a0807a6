#pragma once
// The vocabulary elementwise kernel math is written in, so that one formula serves the
// CUDA kernels (T = float, double: these scalar overloads, device math included) and
// the CPU's SIMD loops (T = cpu::Vec<float>, cpu::Vec<double>: the packet overloads of
// core/cpu/simd.h, found by argument-dependent lookup). Write where_(c, a, b) for
// c ? a : b (both sides are evaluated) and T(k) for constants; scalar_of<T> names the
// element type, for a formula that differs between float and double.
#include <cmath>

#include "core/hd.h"

namespace tg {

template <class T>
struct scalar_of {
  using type = T;
};
template <class T>
using scalar_of_t = typename scalar_of<T>::type;

template <class T>
TG_HD inline T where_(bool c, T a, T b) {
  return c ? a : b;
}

#define TG_SCALAR_MATH(name, f)                           \
  TG_HD inline float name(float x) { return std::f(x); }  \
  TG_HD inline double name(double x) { return std::f(x); }
TG_SCALAR_MATH(abs_, abs)
TG_SCALAR_MATH(exp_, exp)
TG_SCALAR_MATH(expm1_, expm1)
TG_SCALAR_MATH(log_, log)
TG_SCALAR_MATH(log1p_, log1p)
TG_SCALAR_MATH(log1p_unit_, log1p)  // log1p for 0 ≤ x ≤ 1 only: the float32 packets' is cheaper
TG_SCALAR_MATH(tanh_, tanh)
TG_SCALAR_MATH(erf_, erf)
TG_SCALAR_MATH(erfc_, erfc)
#undef TG_SCALAR_MATH
TG_HD inline float fma_(float a, float b, float c) { return std::fma(a, b, c); }
TG_HD inline double fma_(double a, double b, double c) { return std::fma(a, b, c); }
// The standard normal CDF and density at one point, as normal_cdf_pdf_ returns them
// (activations/pointwise_basic.h has the generic form, core/cpu/simd.h the float32
// packets' one, which shares e^(−x²/2) between the two).
template <class T>
struct CdfPdf {
  T cdf, pdf;
};
TG_HD inline float pow_(float a, float b) { return std::pow(a, b); }
TG_HD inline double pow_(double a, double b) { return std::pow(a, b); }

}  // namespace tg
