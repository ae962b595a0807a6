#pragma once
// Per-vector dropout (e3nn's Dropout, one Bernoulli mask per irrep copy): in training
// each vector v of the grouping is kept with probability 1 − p and scaled by 1/(1 − p),
//   y = m·v/(1 − p),   m ~ Bernoulli(1 − p) per vector,
// the probabilistic gate of ProbabilisticVecGELU with a constant keep probability instead
// of P(d/2, ‖v‖²/2). Vector i draws from Philox counter offset + i of `gen` (the default
// generator when null), as probabilistic_vec_gelu does. The backward is the same scale
// times g; one scale per vector is saved. Not training, or p = 0: the identity.
// float32 or float64 on the CPU or a CUDA device (one fused kernel per pass, cuda/vector.cu).
#include "activations/grouping.h"
#include "core/random.h"
#include "layers/module.h"

namespace tg {

Variable vector_dropout(const Variable& x, double p, const VectorGrouping& grouping = VectorGrouping::blocks(),
                        bool training = true, Generator* gen = nullptr);

class VectorDropout : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  explicit VectorDropout(double p = 0.5, VectorGrouping grouping = VectorGrouping::blocks(), Generator* gen = nullptr);
  Variable forward(const Variable& x) override { return vector_dropout(x, p, grouping, is_training(), gen_); }
  std::string name() const override { return "VectorDropout"; }
  const double p;
  const VectorGrouping grouping;

 private:
  Generator* gen_;
};

}  // namespace tg
