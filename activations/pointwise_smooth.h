#pragma once
// The math of the smooth self-gating activations: SiLU (Swish), Mish, Softplus; the
// contract is in pointwise.h. Each derivative is arranged so that no 1 − σ or
// 1 − tanh² is formed where it cancels, so float keeps its digits in float.
#include "activations/pointwise.h"

namespace tg::act {

// y = x·σ(x); dy/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x))).
// With e = e^−x: σ = 1/(1 + e) and 1 − σ = e·σ, taken for x > 0 (where 1 − σ would
// cancel and e ≤ 1 cannot overflow).
struct Silu {
  template <class T>
  TG_HD T f(T x) const {
    return x / (1 + exp_(-x));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const T e = exp_(-x), s = 1 / (1 + e);
    return g * s * (1 + x * where_(x > 0, e * s, 1 - s));
  }
};

// y = x·tanh(sp), sp = softplus(x) = log(1 + eˣ), sp′ = σ(x);
// dy/dx = tanh(sp) + x·(1 − tanh²(sp))·σ(x).
// One exponential serves all: with w = eˣ and n = w(w + 2) = (1 + w)² − 1,
// tanh(sp) = n/(n + 2), 1 − tanh(sp) = 2/(n + 2) =: m, so 1 − tanh² = m(2 − m), and
// σ(x) = 1/(1 + 1/w). tanh is taken as 1 − m for x > 0, where n/(n + 2) would give
// inf/inf once w² overflows.
struct Mish {
  template <class T>
  TG_HD static T tanh_softplus(T x, T& w, T& m) {
    w = exp_(x);
    const T n = w * (w + 2);
    m = 2 / (n + 2);
    return where_(x > 0, 1 - m, n / (n + 2));
  }
  template <class T>
  TG_HD T f(T x) const {
    T w, m;
    return x * tanh_softplus(x, w, m);
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    T w, m;
    const T t = tanh_softplus(x, w, m);
    return g * (t + x * m * (2 - m) / (1 + 1 / w));
  }
};

// y = log(1 + e^(βx))/β = (max(βx, 0) + log1p(e^−|βx|))/β, overflow-free;
// dy/dx = e^(βx)/(1 + e^(βx)) = σ(βx). Above the threshold (βx > threshold) y = x
// and dy/dx = 1, as torch (the two agree to ~e^−threshold). e^−|βx| lies in [0, 1],
// where log1p_unit_ needs no special cases.
struct Softplus {
  double beta, threshold;
  template <class T>
  TG_HD T f(T x) const {
    const T z = x * T(beta);
    return where_(z > T(threshold), x, (max_(z, T(0)) + log1p_unit_(exp_(-abs_(z)))) * T(1 / beta));  // a multiply, not a divide
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const T z = x * T(beta);
    return where_(z > T(threshold), g, g / (1 + exp_(-z)));
  }
};

}  // namespace tg::act
