#pragma once
// VecErf: a vector gate with a learnable width σ > 0,
//   y = v·erf(‖v‖/(√2σ))   per vector (see grouping.h).
// σ = 1 and d = 1 give x·erf(|x|/√2), the d = 1 VecGELU.
// x: float32 or float64 on the CPU or a CUDA device; σ's gradient lands on σ's device.
#include "activations/grouping.h"
#include "layers/module.h"

namespace tg {

// sigma: one element, > 0; receives a gradient. Saves the input only.
Variable vec_erf(const Variable& x, const Variable& sigma, const VectorGrouping& grouping = VectorGrouping::blocks());

class VecErf : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  explicit VecErf(VectorGrouping grouping = VectorGrouping::blocks(), double sigma = 1.0, DType dtype = kFloat32);
  Variable forward(const Variable& x) override { return vec_erf(x, sigma, grouping); }
  std::string name() const override { return "VecErf"; }
  const VectorGrouping grouping;
  Variable& sigma;  // shape [1]
};

}  // namespace tg
