#include "activations/hard.h"

#include "activations/unary.h"

namespace tg {

using act::From;

// y = clamp(x + 3, 0, 6)/6; dy/dx = 1/6 on −3 < x < 3 (where 0 < y < 1), else 0.
Variable hardsigmoid(const Variable& x) {
  return act::unary_activation(
      "hardsigmoid", x, From::Output, [](auto v) { return std::min(std::max(v + 3, decltype(v)(0)), decltype(v)(6)) / 6; },
      [](auto g, auto y) { return y > 0 && y < 1 ? g / 6 : decltype(g)(0); });
}

// y = 0 (x < −3), x(x + 3)/6 (−3 ≤ x ≤ 3), x (x > 3); dy/dx = 0, (2x + 3)/6, 1.
Variable hardswish(const Variable& x) {
  return act::unary_activation(
      "hardswish", x, From::Input,
      [](auto v) { return v * std::min(std::max(v + 3, decltype(v)(0)), decltype(v)(6)) / 6; },
      [](auto g, auto v) { return v < -3 ? decltype(g)(0) : v <= 3 ? g * (2 * v + 3) / 6 : g; });
}

// y = 0 (x < −1.5), x(x + 1.5)/3 (−1.5 ≤ x ≤ 1.5), x (x > 1.5);
// dy/dx = 0, (2x + 1.5)/3, 1.
static double hardgelu1(double v) { return v * std::min(std::max(v + 1.5, 0.0), 3.0) / 3; }
static double hardgelu1_dx(double v) { return v < -1.5 ? 0.0 : v <= 1.5 ? (2 * v + 1.5) / 3 : 1.0; }

Variable hardgelu(const Variable& x) {
  return act::unary_activation(
      "hardgelu", x, From::Input, [](auto v) { return hardgelu1(v); },
      [](auto g, auto v) { return g * hardgelu1_dx(v); });
}

// y = clamp(hardgelu(x), −3/16, 3); the upper clamp binds for x > 3 (dy/dx = 0 there);
// the lower bound is hardgelu's own minimum, so it never changes the gradient.
Variable hardgelu_clamped(const Variable& x) {
  return act::unary_activation(
      "hardgelu_clamped", x, From::Input, [](auto v) { return std::min(std::max(hardgelu1(v), -0.1875), 3.0); },
      [](auto g, auto v) { return v > 3 ? decltype(g)(0) : g * hardgelu1_dx(v); });
}

}  // namespace tg
