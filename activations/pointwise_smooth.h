#pragma once
// The math of the smooth self-gating activations: SiLU (Swish), Mish, Softplus; the
// contract is in pointwise.h. SiLU's derivative and Mish compute in double for float
// inputs too: 1 − σ(x) and 1 − tanh²(sp) lose float digits for large x otherwise;
// Softplus works in double because β and the threshold are doubles.
#include "activations/pointwise.h"

namespace tg::act {

// y = x·σ(x); dy/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x))).
struct Silu {
  template <class T>
  TG_HD T f(T x) const {
    return x / (1 + std::exp(-x));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const double s = 1 / (1 + std::exp(-(double)x));
    return T(g * s * (1 + x * (1 - s)));
  }
};

// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), overflow-free.
TG_HD inline double softplus1(double x) { return max_(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

// y = x·tanh(sp), sp = softplus(x), sp′ = σ(x);
// dy/dx = tanh(sp) + x·(1 − tanh²(sp))·σ(x).
struct Mish {
  template <class T>
  TG_HD T f(T x) const {
    return T(x * std::tanh(softplus1(x)));
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const double t = std::tanh(softplus1(x)), s = 1 / (1 + std::exp(-(double)x));
    return T(g * (t + x * (1 - t * t) * s));
  }
};

// y = log(1 + e^(βx))/β; dy/dx = e^(βx)/(1 + e^(βx)) = σ(βx). Above the threshold
// (βx > threshold) y = x and dy/dx = 1, as torch (the two agree to ~e^−threshold).
struct Softplus {
  double beta, threshold;
  template <class T>
  TG_HD T f(T x) const {
    return x * beta > threshold ? x : T(std::log1p(std::exp(x * beta)) / beta);
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    const double z = std::exp(x * beta);
    return x * beta > threshold ? g : T(g * z / (z + 1));
  }
};

}  // namespace tg::act
