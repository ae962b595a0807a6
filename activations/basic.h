#pragma once
// The classic activations: ReLU, Tanh, Sigmoid and GELU (erf form and the tanh
// approximation), each a functional op with its derivative and a module.
#include <string>

#include "layers/module.h"

namespace tg {

// max(x, 0). Saves the output.
Variable relu(const Variable& x);
// tanh x. Saves the output.
Variable tanh(const Variable& x);
// 1/(1 + e^−x). Saves the output.
Variable sigmoid(const Variable& x);
// x·Φ(x). Saves the input.
Variable gelu(const Variable& x);
// approximate = "none" (erf form, as gelu(x)) or "tanh":
// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), as torch.nn.functional.gelu. Saves the input.
Variable gelu(const Variable& x, const std::string& approximate);

class ReLU : public Module {
 public:
  Variable forward(const Variable& x) override { return relu(x); }
  std::string name() const override { return "ReLU"; }
};
class Tanh : public Module {
 public:
  Variable forward(const Variable& x) override { return tanh(x); }
  std::string name() const override { return "Tanh"; }
};
class Sigmoid : public Module {
 public:
  Variable forward(const Variable& x) override { return sigmoid(x); }
  std::string name() const override { return "Sigmoid"; }
};
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Variable forward(const Variable& x) override { return gelu(x, approximate); }
  std::string name() const override { return "GELU"; }
  std::string extra_repr() const override { return "approximate='" + approximate + "'"; }
  const std::string approximate;
};

}  // namespace tg
