#pragma once
// Smooth self-gating activations: SiLU (Swish), Mish, Softplus (torch semantics).
#include "layers/module.h"

namespace tg {

// x·σ(x). Saves the input.
Variable silu(const Variable& x);
// x·tanh(softplus(x)). Saves the input.
Variable mish(const Variable& x);
// log(1 + e^(βx))/β, and x where βx > threshold (as torch). Saves the input.
Variable softplus(const Variable& x, double beta = 1.0, double threshold = 20.0);

class SiLU : public Module {
 public:
  Variable forward(const Variable& x) override { return silu(x); }
  std::string name() const override { return "SiLU"; }
};
using Swish = SiLU;

class Mish : public Module {
 public:
  Variable forward(const Variable& x) override { return mish(x); }
  std::string name() const override { return "Mish"; }
};

class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0);
  Variable forward(const Variable& x) override { return softplus(x, beta, threshold); }
  std::string name() const override { return "Softplus"; }
  std::string extra_repr() const override { return fmt::format("beta={}, threshold={}", beta, threshold); }
  const double beta, threshold;
};

}  // namespace tg
