#pragma once
// StochasticGELU (Hendrycks & Gimpel's sampled form): in training y = x·m with
// m ~ Bernoulli(Φ(x)) per element, so larger inputs are more likely kept; the
// backward uses the expected gate, dx = g·Φ(x). In eval y = E[x·m] = x·Φ(x) = gelu(x).
#include "core/random.h"
#include "layers/module.h"

namespace tg {

// Training: the mask of element i (row-major) is drawn from Philox counter offset + i of
// `gen` (the default generator when null), so it is reproducible from the generator
// state and independent of the thread count. Saves the input. training = false: gelu(x).
Variable stochastic_gelu(const Variable& x, bool training = true, Generator* gen = nullptr);

class StochasticGELU : public Module {
 public:
  explicit StochasticGELU(Generator* gen = nullptr) : gen_(gen) {}
  Variable forward(const Variable& x) override { return stochastic_gelu(x, is_training(), gen_); }
  std::string name() const override { return "StochasticGELU"; }

 private:
  Generator* gen_;
};

}  // namespace tg
