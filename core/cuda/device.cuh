#pragma once
// Device-side helpers shared by the .cu files: operand offsets from a Strided
// descriptor, launch sizes, and the float/double dispatch of launchers.
#include <cstdint>

#include "core/cuda/kernels.h"

namespace tg::cuda {

inline constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements (at least 1; capped, the loop covers the rest).
inline unsigned grid_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

// off[k] = element offset of operand k for linear (row-major) index i.
template <int N>
__device__ inline void offsets(const Strided<N>& d, int64_t i, int64_t off[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = d.contiguous ? i : 0;
  if (d.contiguous) return;
  for (int j = d.ndim - 1; j >= 0; --j) {
    const int64_t c = i % d.shape[j];
    i /= d.shape[j];
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += c * d.stride[k][j];
  }
}

// Calls body(T{}) with T the C++ type of a float dtype; returns cudaErrorInvalidValue otherwise.
template <class Body>
inline cudaError_t dispatch_float(DType dt, Body&& body) {
  if (dt == DType::f32) return body(float{});
  if (dt == DType::f64) return body(double{});
  return cudaErrorInvalidValue;
}

}  // namespace tg::cuda
