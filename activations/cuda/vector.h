#pragma once
// The vector activations' CUDA path (host side, vector.cpp): one fused kernel per
// forward and per backward (vector.cu). Every tensor argument is contiguous, on one
// CUDA device, float32 or float64, and the shape fits the grouping (vec_gelu.cpp and
// vec_erf.cpp check, then call these); results are new tensors on that device.
#include <cstdint>

#include "activations/grouping.h"
#include "core/tensor.h"

namespace tg::act {

// y = P(d/2, ‖v‖²/2)·v per vector.
Tensor vec_gelu_cuda(const Tensor& x, const VectorGrouping& grouping);
// dx from the input x and upstream g.
Tensor vec_gelu_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping);

// Probabilistic VecGELU: y = m·v, m = [u ≤ p], u from Philox block (seed, offset + vector);
// p (one per vector, x's dtype) is returned through `p`.
Tensor probabilistic_vec_gelu_cuda(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                                   Tensor& p);
// out_v = scale[v]·in_v (the probabilistic backward: dx = p·g).
Tensor vector_scale_cuda(const Tensor& in, const Tensor& scale, const VectorGrouping& grouping);

// y = erf(‖v‖/(√2σ))·v per vector.
Tensor vec_erf_cuda(const Tensor& x, const VectorGrouping& grouping, double sigma);
// dx; dsigma = Σ_v (v·g)·∂s/∂σ as a one-element float64 tensor on x's device.
Tensor vec_erf_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, double sigma,
                             Tensor& dsigma);

}  // namespace tg::act
