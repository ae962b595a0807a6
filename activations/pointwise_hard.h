#pragma once
// The math of the piecewise-polynomial activations: Hardsigmoid, Hardswish, HardGELU
// and its clamped inference form; the contract is in pointwise.h.
#include "activations/pointwise.h"

namespace tg::act {

// y = clamp(x + 3, 0, 6)/6; dy/dx = 1/6 on −3 < x < 3 (where 0 < y < 1), else 0.
struct Hardsigmoid {
  template <class T>
  TG_HD T f(T x) const {
    return min_(max_(x + 3, T(0)), T(6)) / 6;
  }
  template <class T>
  TG_HD T df(T g, T y) const {
    return where_(y > 0 && y < 1, g / 6, T(0));
  }
};

// y = 0 (x < −3), x(x + 3)/6 (−3 ≤ x ≤ 3), x (x > 3); dy/dx = 0, (2x + 3)/6, 1.
struct Hardswish {
  template <class T>
  TG_HD T f(T x) const {
    return x * min_(max_(x + 3, T(0)), T(6)) / 6;
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return where_(x < -3, T(0), where_(x <= 3, g * (2 * x + 3) / 6, g));
  }
};

// y = 0 (x < −1.5), x(x + 1.5)/3 (−1.5 ≤ x ≤ 1.5), x (x > 1.5);
// dy/dx = 0, (2x + 1.5)/3, 1.
template <class T>
TG_HD inline T hardgelu1(T x) {
  return x * min_(max_(x + T(1.5), T(0)), T(3)) / 3;
}
template <class T>
TG_HD inline T hardgelu1_dx(T x) {
  return where_(x < T(-1.5), T(0), where_(x <= T(1.5), (2 * x + T(1.5)) / 3, T(1)));
}

struct Hardgelu {
  template <class T>
  TG_HD T f(T x) const {
    return hardgelu1(x);
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return g * hardgelu1_dx(x);
  }
};

// y = clamp(hardgelu(x), −3/16, 3); the upper clamp binds for x > 3 (dy/dx = 0 there);
// the lower bound is hardgelu's own minimum, so it never changes the gradient.
struct HardgeluClamped {
  template <class T>
  TG_HD T f(T x) const {
    return min_(max_(hardgelu1(x), T(-0.1875)), T(3));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return where_(x > 3, T(0), g * hardgelu1_dx(x));
  }
};

}  // namespace tg::act
