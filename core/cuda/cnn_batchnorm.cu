// Batch normalization kernels. cuDNN's batch norm is fused (statistics, eps and
// normalization in one call, eps >= CUDNN_BN_MIN_EPSILON, a scale tensor always
// present, float accumulation for float data), while our API is split as the
// autograd needs it: statistics without eps, an apply and a backward given mean and
// invstd, optional weight, and a backward that treats running statistics as
// constants. Mapping ours onto cuDNN's would mean recovering var from invstd, which
// is not exact, so these are our own kernels, mirroring core/cpu/batchnorm.cpp:
// per-channel sums in double for both float dtypes, and the elementwise parts
// rounded step by step (no fused multiply-add) so that they agree with the CPU's.
//
// x is viewed as [N, C, L]; the reductions run one block per channel.
#include "core/cuda/cnn_kernels.h"
#include "core/cuda/device.cuh"

namespace tg::cuda {
namespace {

constexpr int kReduceThreads = 512;  // a multiple of 32, at most 1024 (block_sum's 32 warps)

// Correctly rounded float/double arithmetic that nvcc does not contract into FMA.
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ inline float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ inline double sub_rn(double a, double b) { return __dsub_rn(a, b); }

// The sum of v over the block, returned to every thread (blockDim a multiple of 32).
// Ends with a barrier so that the next call may reuse the shared words.
__device__ double block_sum(double v) {
  __shared__ double warps[32];
  __shared__ double total;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (lane == 0) warps[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (int)(blockDim.x / 32) ? warps[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (lane == 0) total = v;
  }
  __syncthreads();
  const double r = total;
  __syncthreads();
  return r;
}

// Offset of the j-th element (j < N·L) of channel c.
__device__ inline int64_t channel_offset(int64_t j, int64_t c, const ChannelDims& d) {
  const int64_t n = j / d.L;
  return (n * d.C + c) * d.L + (j - n * d.L);
}

// mean = Σx/M, var = Σ(x − mean)²/M with M = N·L (two passes, so large means do not cancel).
template <class T>
__global__ void stats_kernel(const T* x, T* mean, T* var, ChannelDims d) {
  const int64_t c = blockIdx.x, M = d.N * d.L;
  double s = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) s += (double)x[channel_offset(j, c, d)];
  const double m = block_sum(s) / (double)M;
  double q = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const double v = (double)x[channel_offset(j, c, d)] - m;
    q += v * v;
  }
  q = block_sum(q);
  if (threadIdx.x == 0) {
    mean[c] = (T)m;
    var[c] = (T)(q / (double)M);
  }
}

// y = x·a + b' with a = invstd·weight and b' = bias − mean·a.
template <class T>
__global__ void apply_kernel(const T* x, const T* mean, const T* invstd, const T* w, const T* b, T* y,
                             ChannelDims d) {
  const int64_t n = d.N * d.C * d.L;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t c = (i / d.L) % d.C;
    const T a = mul_rn(invstd[c], w ? w[c] : T(1));
    const T shift = sub_rn(b ? b[c] : T(0), mul_rn(mean[c], a));
    y[i] = add_rn(mul_rn(x[i], a), shift);
  }
}

// Per channel, with sg = Σ gy and sgx = Σ gy·(x − mean) over N and L:
//   gw = sgx·invstd, gb = sg,
//   gx = weight·invstd·(gy − sg/M − (x − mean)·invstd²·sgx/M) with batch statistics,
//   gx = weight·invstd·gy with running statistics.
template <class T>
__global__ void backward_kernel(const T* gy, const T* x, const T* mean, const T* invstd, const T* w,
                                bool batch_stats, T* gx, T* gw, T* gb, ChannelDims d) {
  const int64_t c = blockIdx.x, M = d.N * d.L;
  const double m = (double)mean[c], is = (double)invstd[c];
  double sg = 0, sgx = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t o = channel_offset(j, c, d);
    sg += (double)gy[o];
    sgx += (double)gy[o] * ((double)x[o] - m);
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  if (threadIdx.x == 0) {
    if (gw) gw[c] = (T)(sgx * is);
    if (gb) gb[c] = (T)sg;
  }
  if (!gx) return;
  const double scale = (w ? (double)w[c] : 1.0) * is;
  const T k0 = (T)scale;
  const T k1 = batch_stats ? (T)(scale * sg / (double)M) : T(0);
  const T k2 = batch_stats ? (T)(scale * is * is * sgx / (double)M) : T(0);
  const T mc = (T)m;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t o = channel_offset(j, c, d);
    gx[o] = sub_rn(sub_rn(mul_rn(k0, gy[o]), k1), mul_rn(sub_rn(x[o], mc), k2));
  }
}

}  // namespace

cudaError_t launch_batch_norm_stats(cudaStream_t s, DType dt, const void* x, void* mean, void* var,
                                    const ChannelDims& d) {
  if (d.C == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    stats_kernel<T><<<(unsigned)d.C, kReduceThreads, 0, s>>>((const T*)x, (T*)mean, (T*)var, d);
    return cudaGetLastError();
  });
}

cudaError_t launch_batch_norm_apply(cudaStream_t s, DType dt, const void* x, const void* mean, const void* invstd,
                                    const void* weight, const void* bias, void* y, const ChannelDims& d) {
  const int64_t n = d.N * d.C * d.L;
  if (n == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    apply_kernel<T><<<grid_for(n), kThreads, 0, s>>>((const T*)x, (const T*)mean, (const T*)invstd,
                                                     (const T*)weight, (const T*)bias, (T*)y, d);
    return cudaGetLastError();
  });
}

cudaError_t launch_batch_norm_backward(cudaStream_t s, DType dt, const void* gy, const void* x, const void* mean,
                                       const void* invstd, const void* weight, bool batch_stats, void* gx, void* gw,
                                       void* gb, const ChannelDims& d) {
  if (d.C == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    backward_kernel<T><<<(unsigned)d.C, kReduceThreads, 0, s>>>((const T*)gy, (const T*)x, (const T*)mean,
                                                                (const T*)invstd, (const T*)weight, batch_stats,
                                                                (T*)gx, (T*)gw, (T*)gb, d);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
