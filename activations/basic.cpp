#include "activations/basic.h"

#include <type_traits>

#include "activations/special.h"
#include "activations/unary.h"

namespace tg {

using act::From;

// y = max(x, 0); dy/dx = [x > 0] = [y > 0], so the output is enough.
Variable relu(const Variable& x) {
  return act::unary_activation(
      "relu", x, From::Output, [](auto v) { return v > 0 ? v : decltype(v)(0); },
      [](auto g, auto y) { return y > 0 ? g : decltype(g)(0); });
}

// y = tanh x; dy/dx = 1 − tanh² x = 1 − y².
Variable tanh(const Variable& x) {
  return act::unary_activation(
      "tanh", x, From::Output, [](auto v) { return std::tanh(v); }, [](auto g, auto y) { return g * (1 - y * y); });
}

// y = σ(x) = 1/(1 + e^−x); dy/dx = e^−x/(1 + e^−x)² = σ(x)(1 − σ(x)) = y(1 − y).
Variable sigmoid(const Variable& x) {
  return act::unary_activation(
      "sigmoid", x, From::Output, [](auto v) { return 1 / (1 + std::exp(-v)); },
      [](auto g, auto y) { return g * y * (1 - y); });
}

// Φ(x) = ½·erfc(−x/√2): accurate in the left tail, where ½(1 + erf) cancels to 0.
// float32 uses erfcf (its error is far below float32 resolution after the product);
// float64 uses the fma-corrected special::Phi.
template <class T>
static T phi_cdf(T v) {
  if constexpr (std::is_same_v<T, float>) {
    return 0.5f * std::erfc(-v * 0.70710678f);
  } else {
    return special::Phi(v);
  }
}

// y = x·Φ(x); product rule: dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π) = Φ′(x).
Variable gelu(const Variable& x) {
  return act::unary_activation(
      "gelu", x, From::Input, [](auto v) { return v * phi_cdf(v); },
      [](auto g, auto v) {
        using T = decltype(v);
        const T pdf = std::exp(T(-0.5) * v * v) * T(0.3989422804014327);
        return g * (phi_cdf(v) + v * pdf);
      });
}

// y = ½x(1 + tanh u), u = √(2/π)(x + c·x³), c = 0.044715;
// dy/dx = ½(1 + tanh u) + ½x(1 − tanh² u)·du/dx, du/dx = √(2/π)(1 + 3c·x²).
static constexpr double kSqrt2OverPi = 0.7978845608028654, kCubic = 0.044715;
static Variable gelu_tanh(const Variable& x) {
  return act::unary_activation(
      "gelu_tanh", x, From::Input,
      [](auto v) {
        using T = decltype(v);
        return T(0.5) * v * (1 + std::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v)));
      },
      [](auto g, auto v) {
        using T = decltype(v);
        const T t = std::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v));
        return g * (T(0.5) * (1 + t) + T(0.5) * v * (1 - t * t) * T(kSqrt2OverPi) * (1 + 3 * T(kCubic) * v * v));
      });
}

Variable gelu(const Variable& x, const std::string& approximate) {
  TG_CHECK(approximate == "none" || approximate == "tanh", "gelu", "approximate must be 'none' or 'tanh', got '{}'",
           approximate);
  return approximate == "tanh" ? gelu_tanh(x) : gelu(x);
}

GELU::GELU(std::string approx) : approximate(std::move(approx)) {
  TG_CHECK(approximate == "none" || approximate == "tanh", "GELU", "approximate must be 'none' or 'tanh', got '{}'",
           approximate);
}

}  // namespace tg
