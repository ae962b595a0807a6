#pragma once
// The math of ReLU, Tanh, Sigmoid and GELU (erf form and tanh approximation);
// the contract is in pointwise.h.
#include <type_traits>

#include "activations/pointwise.h"

namespace tg::act {

// y = max(x, 0); dy/dx = [x > 0] = [y > 0], so the output is enough.
struct Relu {
  template <class T>
  TG_HD T f(T x) const {
    return where_(x > 0, x, T(0));
  }
  template <class T>
  TG_HD T df(T g, T y) const {
    return where_(y > 0, g, T(0));
  }
};

// y = tanh x; dy/dx = 1 − tanh² x = 1 − y².
struct Tanh {
  template <class T>
  TG_HD T f(T x) const {
    return tanh_(x);
  }
  template <class T>
  TG_HD T df(T g, T y) const {
    return g * (1 - y * y);
  }
};

// y = σ(x) = 1/(1 + e^−x); dy/dx = e^−x/(1 + e^−x)² = σ(x)(1 − σ(x)) = y(1 − y).
struct Sigmoid {
  template <class T>
  TG_HD T f(T x) const {
    return 1 / (1 + exp_(-x));
  }
  template <class T>
  TG_HD T df(T g, T y) const {
    return g * y * (1 - y);
  }
};

// Φ(x) = ½·erfc(−x/√2): accurate in the left tail, where ½(1 + erf) cancels to 0.
// float32: erfc of the rounded argument. float64: the rounding error du of u = −x/√2
// (exact through fma) is corrected to first order, erfc(u + du) ≈ erfc(u) −
// (2/√π)e^(−u²)du, as special::Phi does; beyond |x| = 40 erfc and e^(−u²) reach 0 and 2
// by themselves.
template <class T>
TG_HD inline T phi_cdf(T x) {
  if constexpr (std::is_same_v<scalar_of_t<T>, float>) {
    return T(0.5f) * erfc_(x * T(-0.70710678f));
  } else {
    const T u = x * T(-special::detail::kSqrtHalfHi);
    const T du = fma_(-x, T(special::detail::kSqrtHalfHi), -u) - x * T(special::detail::kSqrtHalfLo);
    return T(0.5) * (erfc_(u) - T(special::detail::kTwoOverSqrtPi) * exp_(-u * u) * du);
  }
}

// Φ(x) and φ(x) = e^(−x²/2)/√(2π) = Φ′(x). This generic form serves CUDA and the float64
// packets; the CPU's float32 packets find a faster overload of the same name by
// argument-dependent lookup (core/cpu/simd.h: one e^(−x²/2) times a piecewise
// polynomial, ≤ 3 ulp), the non-template overload winning over this template.
template <class T>
TG_HD inline CdfPdf<T> normal_cdf_pdf_(T x) {
  return {phi_cdf(x), exp_(T(-0.5) * x * x) * T(0.3989422804014327)};
}

// y = x·Φ(x); product rule: dy/dx = Φ(x) + x·φ(x).
struct Gelu {
  template <class T>
  TG_HD T f(T x) const {
    return x * normal_cdf_pdf_(x).cdf;
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const CdfPdf<T> p = normal_cdf_pdf_(x);
    return g * fma_(x, p.pdf, p.cdf);
  }
};

// y = ½x(1 + tanh u), u = √(2/π)(x + c·x³), c = 0.044715;
// dy/dx = ½(1 + tanh u) + ½x(1 − tanh² u)·du/dx, du/dx = √(2/π)(1 + 3c·x²).
struct GeluTanh {
  static constexpr double kSqrt2OverPi = 0.7978845608028654, kCubic = 0.044715;
  template <class T>
  TG_HD T f(T x) const {
    return T(0.5) * x * (1 + tanh_(T(kSqrt2OverPi) * (x + T(kCubic) * x * x * x)));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const T t = tanh_(T(kSqrt2OverPi) * (x + T(kCubic) * x * x * x));
    return g * (T(0.5) * (1 + t) + T(0.5) * x * (1 - t * t) * T(kSqrt2OverPi) * (1 + 3 * T(kCubic) * x * x));
  }
};

}  // namespace tg::act
