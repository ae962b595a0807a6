// Sum/max/min reductions with argmax/argmin. x is [outer, inner]: each output m
// combines the K = inner.numel elements of its block. Two layouts:
//  - rows: the reduced elements are contiguous; a block of threads strides along them
//    and combines through warp shuffles;
//  - columns: otherwise (reducing leading dims, or short rows); one thread per output,
//    so neighbouring threads read neighbouring outputs' elements.
// When there are too few outputs to fill the GPU, K is split into G chunks whose
// partials (value, index) go to scratch and a second kernel combines them in order.
// Sums accumulate in double for both float dtypes, as the CPU backend does.
#include <cmath>

#include "core/cuda/device.cuh"

namespace tg::cuda {

struct Acc {
  double v;
  int64_t i;
};

__device__ inline Acc identity(KReduce op) {
  if (op == KReduce::Sum) return {0.0, 0};
  return {op == KReduce::Max ? -INFINITY : INFINITY, INT64_MAX};
}

// Order-independent combine with the CPU's sequential result: the first NaN wins,
// then the larger (smaller) value, ties to the lower index.
__device__ inline Acc combine(KReduce op, Acc a, Acc b) {
  if (op == KReduce::Sum) return {a.v + b.v, 0};
  const bool an = isnan(a.v), bn = isnan(b.v);
  if (an || bn) return (an && bn) ? (a.i < b.i ? a : b) : (an ? a : b);
  if (op == KReduce::Max ? a.v > b.v : a.v < b.v) return a;
  if (op == KReduce::Max ? b.v > a.v : b.v < a.v) return b;
  return a.i < b.i ? a : b;
}

__device__ inline Acc warp_combine(KReduce op, Acc a) {
  for (int o = 16; o > 0; o >>= 1) {
    Acc b{__shfl_down_sync(0xffffffffu, a.v, o), (int64_t)__shfl_down_sync(0xffffffffu, (long long)a.i, o)};
    a = combine(op, a, b);
  }
  return a;
}

// Thread 0 receives the combination of the whole block (blockDim a multiple of 32).
__device__ inline Acc block_combine(KReduce op, Acc a) {
  __shared__ Acc warps[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  a = warp_combine(op, a);
  if (lane == 0) warps[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < (int)(blockDim.x / 32) ? warps[lane] : identity(op);
    a = warp_combine(op, a);
  }
  return a;
}

template <class T>
__device__ inline void emit(Acc a, int64_t m, int64_t g, int64_t G, T* out, int64_t* index, Acc* part) {
  if (G == 1) {
    out[m] = (T)a.v;
    if (index) index[m] = a.i;
  } else {
    part[m * G + g] = a;
  }
}

template <class T>
__global__ void reduce_rows_kernel(KReduce op, const T* x, ReduceDesc d, int64_t chunk, int64_t G, T* out,
                                   int64_t* index, Acc* part) {
  const int64_t m = blockIdx.x, g = blockIdx.y;
  int64_t base[1];
  offsets<1>(d.outer, m, base);
  const T* p = x + base[0];
  const int64_t k1 = min(d.inner.numel, (g + 1) * chunk);
  Acc a = identity(op);
  for (int64_t k = g * chunk + threadIdx.x; k < k1; k += blockDim.x) a = combine(op, a, Acc{(double)p[k], k});
  a = block_combine(op, a);
  if (threadIdx.x == 0) emit(a, m, g, G, out, index, part);
}

template <class T>
__global__ void reduce_cols_kernel(KReduce op, const T* x, ReduceDesc d, int64_t chunk, int64_t G, T* out,
                                   int64_t* index, Acc* part) {
  const int64_t m = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, g = blockIdx.y;
  if (m >= d.outer.numel) return;
  int64_t base[1];
  offsets<1>(d.outer, m, base);
  const int64_t k1 = min(d.inner.numel, (g + 1) * chunk);
  Acc a = identity(op);
  for (int64_t k = g * chunk; k < k1; ++k) {
    int64_t off[1];
    offsets<1>(d.inner, k, off);
    a = combine(op, a, Acc{(double)x[base[0] + off[0]], k});
  }
  emit(a, m, g, G, out, index, part);
}

template <class T>
__global__ void reduce_finish_kernel(KReduce op, int64_t M, int64_t G, const Acc* part, T* out, int64_t* index) {
  const int64_t m = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (m >= M) return;
  Acc a = identity(op);
  for (int64_t g = 0; g < G; ++g) a = combine(op, a, part[m * G + g]);
  out[m] = (T)a.v;
  if (index) index[m] = a.i;
}

struct Plan {
  bool rows;
  int64_t G, chunk;
};

// Enough blocks to fill the GPU (about 4 per multiprocessor), never chunks so small
// that a block has little to do.
static Plan plan(const ReduceDesc& d, int sm_count) {
  const int64_t M = d.outer.numel, K = d.inner.numel;
  Plan p;
  p.rows = d.inner.contiguous && K >= 64;
  if (K == 0 || M == 0) return {p.rows, 1, K};
  const int64_t units = p.rows ? M : (M + kThreads - 1) / kThreads;
  const int64_t max_g = std::min<int64_t>(1024, p.rows ? (K + 1023) / 1024 : (K + 15) / 16);
  const int64_t want = (4 * (int64_t)sm_count + units - 1) / units;
  p.G = std::max<int64_t>(1, std::min(want, max_g));
  p.chunk = (K + p.G - 1) / p.G;
  p.G = (K + p.chunk - 1) / p.chunk;
  return p;
}

size_t reduce_scratch_bytes(const ReduceDesc& d, int sm_count) {
  const Plan p = plan(d, sm_count);
  return p.G > 1 ? (size_t)(d.outer.numel * p.G) * sizeof(Acc) : 0;
}

cudaError_t launch_reduce(cudaStream_t s, KReduce op, DType dt, const void* x, const ReduceDesc& d, void* out,
                          int64_t* index, void* scratch, int sm_count) {
  const int64_t M = d.outer.numel;
  if (M == 0) return cudaSuccess;
  const Plan p = plan(d, sm_count);
  Acc* part = static_cast<Acc*>(scratch);
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    if (p.rows) {
      reduce_rows_kernel<T><<<dim3((unsigned)M, (unsigned)p.G), kThreads, 0, s>>>(op, (const T*)x, d, p.chunk, p.G,
                                                                                 (T*)out, index, part);
    } else {
      reduce_cols_kernel<T><<<dim3((unsigned)((M + kThreads - 1) / kThreads), (unsigned)p.G), kThreads, 0, s>>>(
          op, (const T*)x, d, p.chunk, p.G, (T*)out, index, part);
    }
    if (p.G > 1) {
      reduce_finish_kernel<T><<<(unsigned)((M + kThreads - 1) / kThreads), kThreads, 0, s>>>(op, M, p.G, part,
                                                                                             (T*)out, index);
    }
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
