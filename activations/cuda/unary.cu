// CUDA kernels of the elementwise activations: one grid-stride loop per direction,
// instantiated per op of pointwise_*.h, so the device runs the very math the CPU
// loops run. Contiguous operands index directly; others go through offsets().
#include "activations/cuda/unary_kernels.h"
#include "core/cuda/device.cuh"

namespace tg::act::cuda {

using tg::cuda::grid_for;
using tg::cuda::kThreads;
using tg::cuda::offsets;

template <class T, class Op>
__global__ void unary_forward_kernel(Op op, T* __restrict__ y, const T* __restrict__ x, Strided<2> d) {
  const int64_t step = (int64_t)gridDim.x * blockDim.x;
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (d.contiguous) {
    for (; i < d.numel; i += step) y[i] = op.f(x[i]);
    return;
  }
  for (; i < d.numel; i += step) {
    int64_t off[2];
    offsets<2>(d, i, off);
    y[off[0]] = op.f(x[off[1]]);
  }
}

template <class T, class Op>
__global__ void unary_backward_kernel(Op op, T* __restrict__ dx, const T* __restrict__ g, const T* __restrict__ s,
                                      Strided<3> d) {
  const int64_t step = (int64_t)gridDim.x * blockDim.x;
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (d.contiguous) {
    for (; i < d.numel; i += step) dx[i] = op.df(g[i], s[i]);
    return;
  }
  for (; i < d.numel; i += step) {
    int64_t off[3];
    offsets<3>(d, i, off);
    dx[off[0]] = op.df(g[off[1]], s[off[2]]);
  }
}

// i is the row-major index whatever the layout: offsets() walks the shape in row-major order.
template <class T>
__global__ void stochastic_gelu_kernel(StochasticGelu op, T* __restrict__ y, const T* __restrict__ x, Strided<2> d) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[2];
    offsets<2>(d, i, off);
    y[off[0]] = op.sample(x[off[1]], (uint64_t)i);
  }
}

template <class Op>
cudaError_t launch_unary_forward(cudaStream_t stream, DType dt, const Op& op, void* y, const void* x,
                                 const Strided<2>& d) {
  if (d.numel == 0) return cudaSuccess;
  return tg::cuda::dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    unary_forward_kernel<T, Op><<<grid_for(d.numel), kThreads, 0, stream>>>(op, (T*)y, (const T*)x, d);
    return cudaGetLastError();
  });
}

template <class Op>
cudaError_t launch_unary_backward(cudaStream_t stream, DType dt, const Op& op, void* dx, const void* g, const void* s,
                                  const Strided<3>& d) {
  if (d.numel == 0) return cudaSuccess;
  return tg::cuda::dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    unary_backward_kernel<T, Op><<<grid_for(d.numel), kThreads, 0, stream>>>(op, (T*)dx, (const T*)g, (const T*)s, d);
    return cudaGetLastError();
  });
}

cudaError_t launch_stochastic_gelu(cudaStream_t stream, DType dt, const StochasticGelu& op, void* y, const void* x,
                                   const Strided<2>& d) {
  if (d.numel == 0) return cudaSuccess;
  return tg::cuda::dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    stochastic_gelu_kernel<T><<<grid_for(d.numel), kThreads, 0, stream>>>(op, (T*)y, (const T*)x, d);
    return cudaGetLastError();
  });
}

#define TG_INSTANTIATE(Op)                                                                                        \
  template cudaError_t launch_unary_forward<Op>(cudaStream_t, DType, const Op&, void*, const void*,               \
                                                const Strided<2>&);                                               \
  template cudaError_t launch_unary_backward<Op>(cudaStream_t, DType, const Op&, void*, const void*, const void*, \
                                                 const Strided<3>&);
TG_POINTWISE_OPS(TG_INSTANTIATE)
#undef TG_INSTANTIATE
// StochasticGELU's backward is an ordinary df.
template cudaError_t launch_unary_backward<StochasticGelu>(cudaStream_t, DType, const StochasticGelu&, void*,
                                                           const void*, const void*, const Strided<3>&);

}  // namespace tg::act::cuda
