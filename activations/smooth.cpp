#include "activations/smooth.h"

#include "activations/unary.h"

namespace tg {

using act::From;

// y = x·σ(x); dy/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x))).
Variable silu(const Variable& x) {
  return act::unary_activation(
      "silu", x, From::Input, [](auto v) { return v / (1 + std::exp(-v)); },
      [](auto g, auto v) {
        const double s = 1 / (1 + std::exp(-(double)v));
        return g * s * (1 + v * (1 - s));
      });
}

// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), overflow-free.
static double softplus1(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); }

// y = x·tanh(sp), sp = softplus(x), sp′ = σ(x);
// dy/dx = tanh(sp) + x·(1 − tanh²(sp))·σ(x).
Variable mish(const Variable& x) {
  return act::unary_activation(
      "mish", x, From::Input, [](auto v) { return v * std::tanh(softplus1(v)); },
      [](auto g, auto v) {
        const double t = std::tanh(softplus1(v)), s = 1 / (1 + std::exp(-(double)v));
        return g * (t + v * (1 - t * t) * s);
      });
}

// y = log(1 + e^(βx))/β; dy/dx = e^(βx)/(1 + e^(βx)) = σ(βx). Above the threshold
// (βx > threshold) y = x and dy/dx = 1, as torch (the two agree to ~e^−threshold).
Variable softplus(const Variable& x, double beta, double threshold) {
  TG_CHECK(beta != 0, "softplus", "beta must not be 0");
  return act::unary_activation(
      "softplus", x, From::Input,
      [beta, threshold](auto v) { return v * beta > threshold ? (double)v : std::log1p(std::exp(v * beta)) / beta; },
      [beta, threshold](auto g, auto v) {
        const double z = std::exp(v * beta);
        return v * beta > threshold ? (double)g : g * z / (z + 1);
      });
}

Softplus::Softplus(double b, double t) : beta(b), threshold(t) { TG_CHECK(beta != 0, "Softplus", "beta must not be 0"); }

}  // namespace tg
