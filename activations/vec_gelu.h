#pragma once
// VecGELU and its probabilistic form: vector activations gating each vector v ∈ R^d
// (see grouping.h) by the probability that a standard normal z ∈ R^d is shorter:
//   s(r, d) = P(‖z‖ ≤ r) = P(d/2, r²/2),   r = ‖v‖,
// P the regularized lower incomplete gamma function (the chi distribution's CDF).
// For d = 1 this is erf(|x|/√2), so VecGELU(x) = x·erf(|x|/√2).
// float32 or float64 on the CPU or a CUDA device (one fused kernel per pass on either).
#include "activations/grouping.h"
#include "core/random.h"
#include "layers/module.h"

namespace tg {

// y = v·P(d/2, ‖v‖²/2) per vector. Saves the input only.
Variable vec_gelu(const Variable& x, const VectorGrouping& grouping = VectorGrouping::blocks());

// Training: y = m·v with one mask m ~ Bernoulli(p), p = P(d/2, ‖v‖²/2), per vector
// (vector i draws from Philox counter offset + i of `gen`, the default generator when
// null); the backward is g·p (the surrogate that keeps the expected gradient; ∂p/∂v is
// ignored). Saves one p per vector only. training = false: vec_gelu(x) (y = p·v).
Variable probabilistic_vec_gelu(const Variable& x, const VectorGrouping& grouping = VectorGrouping::blocks(),
                                bool training = true, Generator* gen = nullptr);

class VecGELU : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  explicit VecGELU(VectorGrouping grouping = VectorGrouping::blocks()) : grouping(grouping) {}
  Variable forward(const Variable& x) override { return vec_gelu(x, grouping); }
  std::string name() const override { return "VecGELU"; }
  const VectorGrouping grouping;
};

class ProbabilisticVecGELU : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  explicit ProbabilisticVecGELU(VectorGrouping grouping = VectorGrouping::blocks(), Generator* gen = nullptr)
      : grouping(grouping), gen_(gen) {}
  Variable forward(const Variable& x) override { return probabilistic_vec_gelu(x, grouping, is_training(), gen_); }
  std::string name() const override { return "ProbabilisticVecGELU"; }
  const VectorGrouping grouping;

 private:
  Generator* gen_;
};

}  // namespace tg
