#pragma once
// Host side of the Strided descriptor (kernels.h): N tensors of one shape become one
// coalesced shape with per-operand element strides, as core/cpu/loops.h does for the CPU.
#include <array>

#include "core/cuda/kernels.h"
#include "core/tensor.h"

namespace tg::cuda {

// Requires equal shapes; throws naming `op` when more than kMaxDims dims stay unmerged.
template <int N>
Strided<N> make_strided(const std::array<const Tensor*, N>& ts, const char* op) {
  Strided<N> d;
  const Shape& shape = ts[0]->shape();
  for (int k = 0; k < N; ++k)
    TG_CHECK(ts[k]->shape() == shape, op, "CUDA kernel operands differ in shape: {} vs {}", shape_str(ts[k]->shape()),
             shape_str(shape));
  d.numel = shape_numel(shape);
  for (int64_t j = 0; j < (int64_t)shape.size(); ++j) {
    if (shape[j] == 1) continue;
    bool merge = d.ndim > 0;
    for (int k = 0; k < N && merge; ++k) merge = d.stride[k][d.ndim - 1] == ts[k]->stride(j) * shape[j];
    if (merge) {
      d.shape[d.ndim - 1] *= shape[j];
      for (int k = 0; k < N; ++k) d.stride[k][d.ndim - 1] = ts[k]->stride(j);
      continue;
    }
    TG_CHECK(d.ndim < kMaxDims, op, "shape {} has more than {} dims that cannot be merged", shape_str(shape),
             kMaxDims);
    d.shape[d.ndim] = shape[j];
    for (int k = 0; k < N; ++k) d.stride[k][d.ndim] = ts[k]->stride(j);
    ++d.ndim;
  }
  d.contiguous = d.ndim == 0;
  if (d.ndim == 1) {
    d.contiguous = true;
    for (int k = 0; k < N; ++k) d.contiguous = d.contiguous && d.stride[k][0] == 1;
  }
  return d;
}

}  // namespace tg::cuda
