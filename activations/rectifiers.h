#pragma once
// Rectifier family: LeakyReLU, PReLU, ELU, SELU, CELU (torch semantics and defaults).
#include "activations/pointwise_rectifiers.h"  // kSeluAlpha, kSeluScale
#include "layers/module.h"

namespace tg {

// x for x > 0, slope·x otherwise. Saves the output when slope ≥ 0 (the sign of y is
// the sign of x), else the input.
Variable leaky_relu(const Variable& x, double negative_slope = 0.01);
// x for x > 0, a·x otherwise, with a learnable slope: weight has one element, or one
// per channel (dim 1 of x, which then needs at least 2 dims), on x's device. Saves the
// input and weight.
Variable prelu(const Variable& x, const Variable& weight);
// x for x > 0, α(eˣ − 1) otherwise. Saves the output when α > 0, else the input.
Variable elu(const Variable& x, double alpha = 1.0);
// λ·elu(x, α) with α = 1.6732632423543772, λ = 1.0507009873554805. Saves the output.
Variable selu(const Variable& x);
// max(0, x) + min(0, α(e^(x/α) − 1)), α ≠ 0. Saves the output when α > 0, else the input.
Variable celu(const Variable& x, double alpha = 1.0);

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Variable forward(const Variable& x) override { return leaky_relu(x, negative_slope); }
  std::string name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override { return fmt::format("negative_slope={}", negative_slope); }
  const double negative_slope;
};

// torch.nn.PReLU: num_parameters = 1 or the number of channels, slopes start at init.
class PReLU : public Module {
 public:
  explicit PReLU(int64_t num_parameters = 1, double init = 0.25, DType dtype = kFloat32);
  Variable forward(const Variable& x) override { return prelu(x, weight); }
  std::string name() const override { return "PReLU"; }
  Variable& weight;
};

class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha(alpha) {}
  Variable forward(const Variable& x) override { return elu(x, alpha); }
  std::string name() const override { return "ELU"; }
  std::string extra_repr() const override { return fmt::format("alpha={}", alpha); }
  const double alpha;
};

class SELU : public Module {
 public:
  Variable forward(const Variable& x) override { return selu(x); }
  std::string name() const override { return "SELU"; }
};

class CELU : public Module {
 public:
  explicit CELU(double alpha = 1.0);
  Variable forward(const Variable& x) override { return celu(x, alpha); }
  std::string name() const override { return "CELU"; }
  std::string extra_repr() const override { return fmt::format("alpha={}", alpha); }
  const double alpha;
};

}  // namespace tg
