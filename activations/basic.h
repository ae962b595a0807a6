#pragma once
// The first activations: ReLU, Tanh, Sigmoid and GELU (erf form), each a functional
// op with its derivative and a module. The full library builds on this pattern.
#include "layers/module.h"

namespace tg {

Variable relu(const Variable& x);
Variable tanh(const Variable& x);
Variable sigmoid(const Variable& x);
Variable gelu(const Variable& x);

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
  Variable forward(const Variable& x) override { return gelu(x); }
  std::string name() const override { return "GELU"; }
};

}  // namespace tg
