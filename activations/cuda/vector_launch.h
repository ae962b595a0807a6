#pragma once
// Launchers of the fused vector-activation kernels (vector.cu). Like core/cuda/kernels.h
// this header is fmt-free: nvcc compiles vector.cu against it, and vector.cpp turns
// Tensors into the raw pointers and the plain descriptor below. Every launcher
// enqueues on `stream` and returns the launch status (cudaGetLastError). All tensors
// are contiguous; per-vector arrays follow the vector numbering of grouping.h.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/dtype.h"

namespace tg::cuda {

// The vectors of a contiguous tensor, in the kernels' terms.
//   Blocks: `planes` H×W planes cut into nbh×nbw blocks of k×k (smaller on the bottom
//     and right edges); vector v is block (v / (nbh·nbw), row, col) row-major.
//   Strided (last_dim, channels): vector v has the d elements base + e·step, e < d,
//     with base = (v / step)·d·step + v % step. last_dim: step = 1 (base = v·d);
//     channels: step = H·W positions (vector = one pixel's channel column).
struct VectorDesc {
  bool blocks = false;
  int64_t count = 0;                             // number of vectors
  int64_t k = 0, h = 0, w = 0, nbh = 0, nbw = 0;  // Blocks
  int64_t d = 0, step = 1;                        // Strided
};

// The gate s(r, d) of a vector activation, with its parameters in GateParams:
//   VecGelu: s = P(d/2, r²/2);  Erf: s = erf(r/(√2σ)), σ = sigma;
//   Norm: a norm gate (activations/norm_gate.h) with the built-in φ `phi` (an
//     act::PhiKind), t = r + bias[group], group = (v / group_stride) mod groups;
//   Table: a norm gate whose φ(t), φ′(t) per vector are read from `table` ([count, 2]);
//   Scale: s = scale[v] (x's dtype), and in the backward ∂s/∂θ = 1, so the per-vector
//     output receives v·g (scale_vectors' gradient to the scales).
enum class VectorGate { VecGelu, Erf, Norm, Table, Scale };

struct GateParams {
  double sigma = 1;                                  // Erf
  int phi = 0;                                       // Norm: an act::PhiKind
  bool normalize = false;                            // Norm, Table
  const double* bias = nullptr;                      // Norm: device, `groups` values
  int64_t group_stride = 1, groups = 1;              // Norm
  const double* table = nullptr;                     // Table: device, [count, 2]
  const void* scale = nullptr;                       // Scale: device, one per vector
};

// y_v = s(‖x_v‖)·x_v.
cudaError_t launch_vector_forward(cudaStream_t stream, DType dt, const VectorDesc& desc, VectorGate gate,
                                  const GateParams& params, const void* x, void* y);

// Probabilistic VecGELU: p_v = P(d/2, ‖x_v‖²/2) into p (one per vector), y_v = m_v·x_v with
// m_v = [u_v ≤ p_v], u_v the uniform of Philox block (seed, offset + v) (as the CPU draws).
cudaError_t launch_vector_prob_forward(cudaStream_t stream, DType dt, const VectorDesc& desc, uint64_t seed,
                                       uint64_t offset, const void* x, void* y, void* p);

// Per-vector dropout: scale_v = [u_v ≤ keep]·kept_scale into `scale` (one per vector),
// y_v = scale_v·x_v, u_v drawn as above.
cudaError_t launch_vector_dropout(cudaStream_t stream, DType dt, const VectorDesc& desc, uint64_t seed, uint64_t offset,
                                  double keep, double kept_scale, const void* x, void* y, void* scale);

// out_v = scale[v]·in_v.
cudaError_t launch_vector_scale(cudaStream_t stream, DType dt, const VectorDesc& desc, const void* in,
                                const void* scale, void* out);

// Number of partial sums launch_vector_backward writes for the gate parameter.
int64_t vector_backward_partials(const VectorDesc& desc);

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v. When non-null, partials (device, length from
// vector_backward_partials) receives per-block sums of (x_v·g_v)·∂s/∂θ, each added in a
// fixed order, and per_vector (device, one per vector) each vector's (x_v·g_v)·∂s/∂θ.
cudaError_t launch_vector_backward(cudaStream_t stream, DType dt, const VectorDesc& desc, VectorGate gate,
                                   const GateParams& params, const void* x, const void* g, void* dx, double* partials,
                                   double* per_vector);

// ---- group operations (vector_ops.cu): which input element each output takes ----

// The largest vector group_sort sorts on a device (a thread keeps its vector's offsets).
inline constexpr int64_t kMaxSortDim = 64;

// index[v] = the offset of vector v's first maximum.
cudaError_t launch_vector_argmax(cudaStream_t stream, DType dt, const VectorDesc& desc, const void* x, int64_t* index);

// source[o] = the offset whose value lands at element o after a stable sort of each
// vector (descending or ascending). Every vector has at most kMaxSortDim elements.
cudaError_t launch_vector_sort(cudaStream_t stream, DType dt, const VectorDesc& desc, bool descending, const void* x,
                               int64_t* source);

// NormMaxPool over an N,C,H,W map with windows kernel×kernel, step stride, output Ho×Wo.
struct NormMaxPoolDesc {
  int64_t n = 0, c = 0, h = 0, w = 0, kernel = 1, stride = 1, ho = 0, wo = 0;
};
// index[n, c, i, j] = the input offset of channel c at the pixel of window (i, j) with
// the largest r2 (‖channel vector‖², one per pixel), the first in row-major order on ties.
cudaError_t launch_norm_max_pool_index(cudaStream_t stream, const NormMaxPoolDesc& desc, const double* r2,
                                       int64_t* index);

// out[0] = Σ partials[0..n), summed by one block in a fixed order (reproducible).
cudaError_t launch_sum_partials(cudaStream_t stream, const double* partials, int64_t n, double* out);

}  // namespace tg::cuda
