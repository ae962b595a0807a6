// Fused optimizer updates on the device: one thread per element (grid-stride), the
// per-element math shared with the CPU (core/optim_math.h). The pointers are not
// __restrict__: SGD without momentum passes the gradient as its unused buffer.
#include "core/cuda/device.cuh"
#include "core/cuda/optim_launch.h"

namespace tg::cuda {

template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, int64_t n, SgdStep s) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    sgd_element<T>(s, p[i], g[i], buf[i]);
}

template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, AdamStep s) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    adam_element<T>(s, p[i], g[i], m[i], v[i]);
}

cudaError_t launch_sgd_update(cudaStream_t s, DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                              const SgdStep& step) {
  if (n == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    sgd_kernel<T><<<grid_for(n), kThreads, 0, s>>>((T*)param, (const T*)grad, (T*)momentum_buf, n, step);
    return cudaGetLastError();
  });
}

cudaError_t launch_adam_update(cudaStream_t s, DType dt, void* param, const void* grad, void* exp_avg,
                               void* exp_avg_sq, int64_t n, const AdamStep& step) {
  if (n == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    adam_kernel<T><<<grid_for(n), kThreads, 0, s>>>((T*)param, (const T*)grad, (T*)exp_avg, (T*)exp_avg_sq, n, step);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
