// CUDA kernels of PReLU (math in pointwise_rectifiers.h). The slope gradient is a
// per-channel sum over up to millions of elements; it runs in two passes with fixed
// shapes, so the result does not depend on scheduling (no atomics): pass 1 gives
// each block a chunk of one channel and writes the chunk's sum, pass 2 sums each
// channel's chunks in order.
#include "activations/cuda/unary_kernels.h"
#include "core/cuda/device.cuh"

namespace tg::act::cuda {

using tg::cuda::grid_for;
using tg::cuda::kThreads;

// Elements of one channel per pass-1 block.
constexpr int64_t kChunk = kThreads * 16;

static int64_t chunks_per_channel(const PreluShape& s) { return (s.outer * s.inner + kChunk - 1) / kChunk; }

int64_t prelu_partials(const PreluShape& s) { return s.channels * chunks_per_channel(s); }

// The sum of v over the block (blockDim.x == kThreads), in a fixed tree order.
static __device__ double block_sum(double v) {
  __shared__ double buf[kThreads];
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int h = kThreads / 2; h > 0; h /= 2) {
    if (threadIdx.x < h) buf[threadIdx.x] += buf[threadIdx.x + h];
    __syncthreads();
  }
  return buf[0];
}

template <class T>
__global__ void prelu_forward_kernel(T* __restrict__ y, const T* __restrict__ x, const T* __restrict__ w, PreluShape s,
                                     int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = Prelu::f(x[i], w[(i / s.inner) % s.channels]);
}

// Block b: chunk b % chunks of channel c = b / chunks, i.e. the channel's elements
// k = o·inner + j (o < outer, j < inner) in [chunk·kChunk, (chunk + 1)·kChunk).
template <class T>
__global__ void prelu_backward_kernel(T* __restrict__ dx, double* __restrict__ partials, const T* __restrict__ g,
                                      const T* __restrict__ x, const T* __restrict__ w, PreluShape s, int64_t chunks) {
  const int64_t c = blockIdx.x / chunks, chunk = blockIdx.x % chunks;
  const int64_t m = s.outer * s.inner, end = (chunk + 1) * kChunk < m ? (chunk + 1) * kChunk : m;
  const T a = w[c];
  double sum = 0;
  for (int64_t k = chunk * kChunk + threadIdx.x; k < end; k += kThreads) {
    const int64_t o = k / s.inner, i = (o * s.channels + c) * s.inner + (k - o * s.inner);
    if (dx) dx[i] = Prelu::dx(g[i], x[i], a);
    sum += (double)Prelu::da(g[i], x[i]);
  }
  if (partials == nullptr) return;  // uniform across the block: block_sum's barriers stay matched
  sum = block_sum(sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// Block c: dw[c] = the sum of channel c's chunk partials.
template <class T>
__global__ void prelu_weight_grad_kernel(T* __restrict__ dw, const double* __restrict__ partials, int64_t chunks) {
  double sum = 0;
  for (int64_t k = threadIdx.x; k < chunks; k += kThreads) sum += partials[blockIdx.x * chunks + k];
  sum = block_sum(sum);
  if (threadIdx.x == 0) dw[blockIdx.x] = (T)sum;
}

cudaError_t launch_prelu_forward(cudaStream_t stream, DType dt, void* y, const void* x, const void* w,
                                 const PreluShape& s) {
  const int64_t n = s.outer * s.channels * s.inner;
  if (n == 0) return cudaSuccess;
  return tg::cuda::dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    prelu_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>((T*)y, (const T*)x, (const T*)w, s, n);
    return cudaGetLastError();
  });
}

cudaError_t launch_prelu_backward(cudaStream_t stream, DType dt, void* dx, void* dw, const void* g, const void* x,
                                  const void* w, const PreluShape& s, double* partials) {
  const int64_t chunks = chunks_per_channel(s);
  if (chunks == 0) return cudaSuccess;
  return tg::cuda::dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    prelu_backward_kernel<T><<<(unsigned)(s.channels * chunks), kThreads, 0, stream>>>(
        (T*)dx, dw ? partials : nullptr, (const T*)g, (const T*)x, (const T*)w, s, chunks);
    if (dw) prelu_weight_grad_kernel<T><<<(unsigned)s.channels, kThreads, 0, stream>>>((T*)dw, partials, chunks);
    return cudaGetLastError();
  });
}

}  // namespace tg::act::cuda
