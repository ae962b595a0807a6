#pragma once
// The math of the rectifier family: LeakyReLU, PReLU, ELU, SELU, CELU; the contract is
// in pointwise.h. Where α > 0 (or the slope ≥ 0) the sign of y is the sign of x, so
// the derivative can be read off the output: those ops come in a FromOutput form.
// α is rounded to the element type, as in torch.
#include "activations/pointwise.h"

namespace tg {

inline constexpr double kSeluAlpha = 1.6732632423543772;
inline constexpr double kSeluScale = 1.0507009873554805;

namespace act {

// y = x (x > 0), s·x (x ≤ 0) = max(x, 0) + s·min(x, 0); dy/dx = 1 or s. For s ≥ 0,
// y > 0 ⇔ x > 0, so df reads the input or the output alike.
struct LeakyRelu {
  double slope;
  template <class T>
  TG_HD T f(T x) const {
    return max_(x, T(0)) + T(slope) * min_(x, T(0));
  }
  template <class T>
  TG_HD T df(T g, T s) const {
    return where_(s > 0, g, g * T(slope));
  }
};

// y = x (x > 0), a·x (x ≤ 0) with a the slope of the element's channel;
// ∂y/∂x = 1 or a; ∂y/∂a = 0 or x, so ∂L/∂a_c = Σ_{elements of channel c, x ≤ 0} g·x.
// Not an f/df op (the slope is a second operand): the PReLU kernels call these.
struct Prelu {
  template <class T>
  TG_HD static T f(T x, T a) {
    return where_(x > 0, x, a * x);
  }
  template <class T>
  TG_HD static T dx(T g, T x, T a) {
    return where_(x > 0, g, a * g);
  }
  // One term of ∂L/∂a; the kernels sum a channel's terms in double (up to millions).
  template <class T>
  TG_HD static T da(T g, T x) {
    return where_(x > 0, T(0), g * x);
  }
};

// y = x (x > 0), α(eˣ − 1) (x ≤ 0); dy/dx = 1 or α·eˣ, from the input (any α).
struct Elu {
  double alpha;
  template <class T>
  TG_HD T f(T x) const {
    return where_(x > 0, x, T(alpha) * expm1_(x));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return where_(x > 0, g, g * T(alpha) * exp_(x));
  }
};
// α > 0: dy/dx = α·eˣ = y + α on the negative side.
struct EluFromOutput : Elu {
  template <class T>
  TG_HD T df(T g, T y) const {
    return where_(y > 0, g, g * (y + T(alpha)));
  }
};

// y = λx (x > 0), λα(eˣ − 1) (x ≤ 0); dy/dx = λ or λα·eˣ = y + λα (from the output).
struct Selu {
  static constexpr double kScaleAlpha = kSeluScale * kSeluAlpha;
  template <class T>
  TG_HD T f(T x) const {
    return where_(x > 0, T(kSeluScale) * x, T(kScaleAlpha) * expm1_(x));
  }
  template <class T>
  TG_HD T df(T g, T y) const {
    return where_(y > 0, g * T(kSeluScale), g * (y + T(kScaleAlpha)));
  }
};

// y = x (x > 0), α(e^(x/α) − 1) (x ≤ 0), α ≠ 0; dy/dx = 1 or e^(x/α), from the input.
struct Celu {
  double alpha;
  template <class T>
  TG_HD T f(T x) const {
    return where_(x > 0, x, T(alpha) * expm1_(x / T(alpha)));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return where_(x > 0, g, g * exp_(x / T(alpha)));
  }
};
// α > 0: dy/dx = e^(x/α) = y/α + 1 on the negative side.
struct CeluFromOutput : Celu {
  template <class T>
  TG_HD T df(T g, T y) const {
    return where_(y > 0, g, g * (y / T(alpha) + 1));
  }
};

}  // namespace act
}  // namespace tg
