#pragma once
// The device kernels of the activations that are not plain elementwise ops (those
// have UnaryKernels<Op>, activations/unary.h): one dispatch table each
// (core/dispatch.h). The CPU kernel registers in the activation's own .cpp, the CUDA
// kernel in activations/cuda/{unary,vector}.cpp. Arguments arrive checked by the
// activation: float32/float64, contiguous where said, the shape fitting the grouping;
// results are new tensors on the input's device.
#include <cstdint>
#include <vector>

#include "activations/grouping.h"
#include "activations/norm_gate.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "core/dispatch.h"
#include "core/tensor.h"

namespace tg::act {

// y = op.sample(x_i, i) with i the row-major index; x contiguous.
extern DispatchStub<Tensor (*)(const StochasticGelu& op, const Tensor& x)> stochastic_gelu_stub;

// PReLU of contiguous x seen as [outer, channels, inner] with contiguous slopes w.
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& w, int64_t inner)> prelu_forward_stub;
// {dx, dw}, each computed only where `need` asks (else undefined); g any layout.
extern DispatchStub<std::vector<Tensor> (*)(const Tensor& g, const Tensor& x, const Tensor& w, int64_t inner,
                                            const std::vector<bool>& need)>
    prelu_backward_stub;

// Vector activations, every tensor contiguous (vec_gelu.cpp, vec_erf.cpp).
// y = P(d/2, ‖v‖²/2)·v per vector; dx from the input x and upstream g.
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping)> vec_gelu_forward_stub;
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& g, const VectorGrouping& grouping)>
    vec_gelu_backward_stub;
// Probabilistic VecGELU: y = m·v, m = [u ≤ p], u from Philox block (seed, offset + vector);
// p (one per vector, x's dtype) is returned through `p`.
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                               Tensor& p)>
    probabilistic_vec_gelu_stub;
// out_v = scale[v]·in_v (scale_vectors' forward, and the backward of the probabilistic
// VecGELU, dropout and norm pooling: dx = p·g).
extern DispatchStub<Tensor (*)(const Tensor& in, const Tensor& scale, const VectorGrouping& grouping)>
    vector_scale_stub;
// y = erf(‖v‖/(√2σ))·v per vector; backward: dx, and dsigma = Σ_v (v·g)·∂s/∂σ as a
// one-element float64 tensor on x's device.
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping, double sigma)> vec_erf_forward_stub;
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, double sigma,
                               Tensor& dsigma)>
    vec_erf_backward_stub;

// The vector operations of norm_activation.cpp, vector_dropout.cpp and vector_ops.cpp
// (their CPU kernels are registered in those files, the CUDA ones in cuda/vector*.cpp).
//
// A norm gate (norm_gate.h): the built-in φ `kind`, or `table` (float64 [count, 2],
// φ(t) and φ′(t) per vector) when defined; bias: float64 on x's device, `groups` values,
// vector v using bias[(v / group_stride) mod groups].
struct NormGateArgs {
  act::PhiKind kind;
  bool normalize;
  Tensor bias, table;
  int64_t group_stride, groups;
};
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping, const NormGateArgs& args)>
    norm_gate_stub;
// dx; with per_vector, also (v·g)·∂s/∂b per vector (float64, x's device).
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& g, const VectorGrouping& grouping,
                               const NormGateArgs& args, Tensor* per_vector)>
    norm_gate_backward_stub;
// scale_vectors: the forward y_v = scale_v·x_v is vector_scale_stub; the backward gives
// dx = s·g and dots (float64, one per vector) = x_v·g_v.
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& g, const Tensor& scale, const VectorGrouping& grouping,
                               Tensor& dots)>
    scale_vectors_backward_stub;
// ‖v‖² per vector (float64).
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping)> vector_sq_norms_stub;
// Per-vector dropout: scale_v = [u_v ≤ keep]·kept_scale (returned through `scale`, x's
// dtype), y_v = scale_v·x_v, u_v from Philox block (seed, offset + v) as on the CPU.
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                               double keep, double kept_scale, Tensor& scale)>
    vector_dropout_stub;
// The group operations' choices, int64 on x's device: the offset of each vector's first
// maximum ([count]); the source offset of every element after a stable sort of each
// vector ([numel]; vectors of up to 64 elements, else tg::Error); for NormMaxPool the
// input offset of every output element ([N, C, ho, wo]).
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping)> vector_argmax_stub;
extern DispatchStub<Tensor (*)(const Tensor& x, const VectorGrouping& grouping, bool descending)> vector_sort_stub;
extern DispatchStub<Tensor (*)(const Tensor& x, int64_t kernel, int64_t stride, int64_t ho, int64_t wo)>
    norm_max_pool_index_stub;
// Flat moves by offsets into a contiguous tensor: out[i] = x[index[i]], shaped `shape`
// (take); dx = 0, then dx[index[i]] += g[i] in index order, shaped `shape` (put_add).
extern DispatchStub<Tensor (*)(const Tensor& x, const Tensor& index, const Shape& shape)> take_stub;
extern DispatchStub<Tensor (*)(const Tensor& g, const Tensor& index, const Shape& shape)> put_add_stub;

}  // namespace tg::act
