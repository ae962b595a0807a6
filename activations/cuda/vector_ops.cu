// Index kernels of the vector group operations (activations/vector_ops.cpp): which
// element each output takes. The values then move with the backend's gather and the
// backward is its scatter_add, on either device, so only the choice is device code.
// One thread per vector (or per output pixel); the rules match the CPU loops: the first
// maximum in element order, a stable sort, the first pixel of a window with the largest
// norm.
#include "activations/cuda/vector_launch.h"
#include "core/cuda/device.cuh"

namespace tg::cuda {
namespace {

// Elements of vector v: their number and the offset of the e-th (row-major in a block).
__device__ inline int64_t vector_dim(const VectorDesc& q, int64_t v) {
  if (!q.blocks) return q.d;
  const int64_t per_plane = q.nbh * q.nbw, b = v % per_plane, r0 = (b / q.nbw) * q.k, c0 = (b % q.nbw) * q.k;
  return (q.h - r0 < q.k ? q.h - r0 : q.k) * (q.w - c0 < q.k ? q.w - c0 : q.k);
}
__device__ inline int64_t element_offset(const VectorDesc& q, int64_t v, int64_t e) {
  if (!q.blocks) return (q.step == 1 ? v * q.d : (v / q.step) * q.d * q.step + v % q.step) + e * q.step;
  const int64_t per_plane = q.nbh * q.nbw, plane = v / per_plane, b = v % per_plane;
  const int64_t r0 = (b / q.nbw) * q.k, c0 = (b % q.nbw) * q.k, cols = q.w - c0 < q.k ? q.w - c0 : q.k;
  return plane * q.h * q.w + (r0 + e / cols) * q.w + c0 + e % cols;
}

template <class T>
__global__ void argmax_kernel(VectorDesc q, const T* __restrict__ x, int64_t* __restrict__ index) {
  for (int64_t v = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; v < q.count; v += (int64_t)gridDim.x * blockDim.x) {
    const int64_t n = vector_dim(q, v);
    int64_t best = element_offset(q, v, 0);
    for (int64_t e = 1; e < n; ++e) {
      const int64_t o = element_offset(q, v, e);
      if (x[o] > x[best]) best = o;
    }
    index[v] = best;
  }
}

// Insertion sort of the vector's offsets by value: stable (an element moves only past
// strictly smaller, or for ascending strictly larger, values).
template <class T>
__global__ void sort_kernel(VectorDesc q, bool descending, const T* __restrict__ x, int64_t* __restrict__ source) {
  for (int64_t v = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; v < q.count; v += (int64_t)gridDim.x * blockDim.x) {
    const int64_t n = vector_dim(q, v);
    int64_t order[kMaxSortDim];
    for (int64_t e = 0; e < n; ++e) {
      const int64_t o = element_offset(q, v, e);
      const T value = x[o];
      int64_t j = e;
      while (j > 0 && (descending ? x[order[j - 1]] < value : x[order[j - 1]] > value)) {
        order[j] = order[j - 1];
        --j;
      }
      order[j] = o;
    }
    for (int64_t e = 0; e < n; ++e) source[element_offset(q, v, e)] = order[e];
  }
}

__global__ void norm_max_pool_kernel(NormMaxPoolDesc p, const double* __restrict__ r2, int64_t* __restrict__ index) {
  const int64_t outputs = p.n * p.ho * p.wo;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < outputs; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t n = t / (p.ho * p.wo), i = (t / p.wo) % p.ho, j = t % p.wo;
    const double* rn = r2 + n * p.h * p.w;
    int64_t best = i * p.stride * p.w + j * p.stride;
    for (int64_t a = 0; a < p.kernel; ++a)
      for (int64_t b = 0; b < p.kernel; ++b) {
        const int64_t px = (i * p.stride + a) * p.w + j * p.stride + b;
        if (rn[px] > rn[best]) best = px;
      }
    for (int64_t c = 0; c < p.c; ++c) index[((n * p.c + c) * p.ho + i) * p.wo + j] = (n * p.c + c) * p.h * p.w + best;
  }
}

}  // namespace

cudaError_t launch_vector_argmax(cudaStream_t stream, DType dt, const VectorDesc& desc, const void* x, int64_t* index) {
  if (desc.count == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    argmax_kernel<T><<<grid_for(desc.count), kThreads, 0, stream>>>(desc, (const T*)x, index);
    return cudaGetLastError();
  });
}

cudaError_t launch_vector_sort(cudaStream_t stream, DType dt, const VectorDesc& desc, bool descending, const void* x,
                               int64_t* source) {
  if (desc.count == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    sort_kernel<T><<<grid_for(desc.count), kThreads, 0, stream>>>(desc, descending, (const T*)x, source);
    return cudaGetLastError();
  });
}

cudaError_t launch_norm_max_pool_index(cudaStream_t stream, const NormMaxPoolDesc& desc, const double* r2,
                                       int64_t* index) {
  const int64_t outputs = desc.n * desc.ho * desc.wo;
  if (outputs == 0) return cudaSuccess;
  norm_max_pool_kernel<<<grid_for(outputs), kThreads, 0, stream>>>(desc, r2, index);
  return cudaGetLastError();
}

}  // namespace tg::cuda
