#pragma once
// The vector activations' CUDA path (host side, vector.cpp): one fused kernel per
// forward and per backward (vector.cu). Every tensor argument is contiguous, on one
// CUDA device, float32 or float64, and the shape fits the grouping (vec_gelu.cpp and
// vec_erf.cpp check, then call these); results are new tensors on that device.
#include <cstdint>

#include "activations/grouping.h"
#include "activations/norm_gate.h"
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

// A norm gate (norm_gate.h): the built-in φ `kind`, or `table` (float64 [count, 2],
// φ(t) and φ′(t) per vector) when defined; bias: float64 on x's device, `groups` values,
// vector v using bias[(v / group_stride) mod groups].
struct NormGateArgs {
  act::PhiKind kind;
  bool normalize;
  Tensor bias, table;
  int64_t group_stride, groups;
};
Tensor norm_gate_cuda(const Tensor& x, const VectorGrouping& grouping, const NormGateArgs& args);
// dx; with per_vector, also (v·g)·∂s/∂b per vector (float64, x's device).
Tensor norm_gate_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping,
                               const NormGateArgs& args, Tensor* per_vector);

// y_v = scale_v·x_v with one scale per vector (x's dtype); the backward gives dx = s·g
// and dots (float64, one per vector) = x_v·g_v.
Tensor scale_vectors_cuda(const Tensor& x, const Tensor& scale, const VectorGrouping& grouping);
Tensor scale_vectors_backward_cuda(const Tensor& x, const Tensor& g, const Tensor& scale,
                                   const VectorGrouping& grouping, Tensor& dots);

// ‖v‖² per vector (float64): the dots of scale_vectors' backward with g = x (its dx,
// 0·x, is dropped). The norm gates with a function φ use it to evaluate φ per vector.
Tensor vector_sq_norms_cuda(const Tensor& x, const VectorGrouping& grouping);

// Per-vector dropout: scale_v = [u_v ≤ keep]·kept_scale (returned through `scale`, x's
// dtype), y_v = scale_v·x_v, u_v from Philox block (seed, offset + v) as on the CPU.
Tensor vector_dropout_cuda(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                           double keep, double kept_scale, Tensor& scale);

// The group operations' choices (vector_ops.cu), int64 on x's device: the offset of each
// vector's first maximum ([count]); the source offset of every element after a stable
// sort of each vector ([numel]; vectors of up to 64 elements, else tg::Error); for
// NormMaxPool the input offset of every output element ([N, C, ho, wo]).
Tensor vector_argmax_cuda(const Tensor& x, const VectorGrouping& grouping);
Tensor vector_sort_cuda(const Tensor& x, const VectorGrouping& grouping, bool descending);
Tensor norm_max_pool_index_cuda(const Tensor& x, int64_t kernel, int64_t stride, int64_t ho, int64_t wo);

}  // namespace tg::act
