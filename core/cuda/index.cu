// gather and scatter_add along one dim. Each thread takes one element of the index
// tensor; x's offset is the coalesced offset of the other dims plus index * stride.
#include <cmath>

#include "core/cuda/device.cuh"

namespace tg::cuda {

// Records the first bad index of the launch sequence (later ones keep the first).
__device__ inline void report(int64_t* error, int64_t code, int64_t idx, int64_t size) {
  if (atomicCAS((unsigned long long*)error, 0ull, (unsigned long long)code) == 0ull) {
    error[1] = idx;
    error[2] = size;
  }
}

template <class T>
__global__ void gather_kernel(const T* x, const int64_t* index, T* vals, IndexDesc d, int64_t* error) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[3];
    offsets<3>(d.d, i, off);
    const int64_t c = index[off[0]];
    if (c < 0 || c >= d.dim_size) {
      report(error, kGatherError, c, d.dim_size);
      vals[off[1]] = T(NAN);
    } else {
      vals[off[1]] = x[off[2] + c * d.dim_stride];
    }
  }
}

template <class T>
__global__ void scatter_add_kernel(T* x, const int64_t* index, const T* vals, IndexDesc d, int64_t* error) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[3];
    offsets<3>(d.d, i, off);
    const int64_t c = index[off[0]];
    if (c < 0 || c >= d.dim_size) {
      report(error, kScatterError, c, d.dim_size);
    } else {
      atomicAdd(&x[off[2] + c * d.dim_stride], vals[off[1]]);
    }
  }
}

cudaError_t launch_gather(cudaStream_t s, DType dt, const void* x, const int64_t* index, void* vals,
                          const IndexDesc& d, int64_t* error) {
  if (d.d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    gather_kernel<T><<<grid_for(d.d.numel), kThreads, 0, s>>>((const T*)x, index, (T*)vals, d, error);
    return cudaGetLastError();
  });
}

cudaError_t launch_scatter_add(cudaStream_t s, DType dt, void* x, const int64_t* index, const void* vals,
                               const IndexDesc& d, int64_t* error) {
  if (d.d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    scatter_add_kernel<T><<<grid_for(d.d.numel), kThreads, 0, s>>>((T*)x, index, (const T*)vals, d, error);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
