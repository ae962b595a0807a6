// Our own pooling kernels, where cuDNN's semantics are not ours:
//  - max pooling: cuDNN returns no indices, and its backward re-finds the maximum
//    from x and y instead of scattering by the forward's indices; we need int64
//    flat indices ih·W + iw with the first maximum winning ties, padding never
//    winning and NaN propagating, exactly as the CPU (core/cpu/pool.cpp). The
//    backward is the backend's scatter_add (cnn_pool.cpp).
//  - adaptive average pooling: its bins have uneven sizes and may overlap, which no
//    fixed window/stride of cuDNN expresses.
// One thread per output (forward; a warp per output for adaptive bins of many
// elements, such as global pooling) or per input pixel (adaptive backward, a gather:
// no atomics, and the same summation order as the CPU).
#include <cmath>

#include "core/cuda/cnn_kernels.h"
#include "core/cuda/device.cuh"

namespace tg::cuda {
namespace {

__device__ inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
__device__ inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// Window of output (oh, ow) clipped to the input, rows [h0, h1) × columns [w0, w1):
// y = max over it; the index is the first position holding the maximum (a NaN beats
// any number, the first NaN wins).
template <class T>
__global__ void max_pool2d_kernel(const T* x, T* y, int64_t* indices, PoolDims d) {
  const int64_t n = d.planes * d.OH * d.OW;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t ow = i % d.OW, oh = (i / d.OW) % d.OH, p = i / (d.OW * d.OH);
    const int64_t hs = oh * d.sh - d.ph, ws = ow * d.sw - d.pw;
    const int64_t h0 = imax(hs, 0), h1 = imin(hs + d.KH, d.H), w0 = imax(ws, 0), w1 = imin(ws + d.KW, d.W);
    const T* xp = x + p * d.H * d.W;
    T best = -INFINITY;
    int64_t arg = h0 * d.W + w0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) {
        const T v = xp[ih * d.W + iw];
        if (v > best || (isnan(v) && !isnan(best))) {
          best = v;
          arg = ih * d.W + iw;
        }
      }
    y[i] = best;
    indices[i] = arg;
  }
}

// Adaptive bin i of n over an input of size len: [⌊i·len/n⌋, ⌈(i+1)·len/n⌉).
__device__ inline int64_t bin_start(int64_t i, int64_t len, int64_t n) { return i * len / n; }
__device__ inline int64_t bin_end(int64_t i, int64_t len, int64_t n) { return ((i + 1) * len + n - 1) / n; }

// y[oh, ow] = mean of x over bin oh × bin ow.
template <class T>
__global__ void adaptive_avg_pool2d_kernel(const T* x, T* y, PoolDims d) {
  const int64_t n = d.planes * d.OH * d.OW;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t ow = i % d.OW, oh = (i / d.OW) % d.OH, p = i / (d.OW * d.OH);
    const int64_t h0 = bin_start(oh, d.H, d.OH), h1 = bin_end(oh, d.H, d.OH);
    const int64_t w0 = bin_start(ow, d.W, d.OW), w1 = bin_end(ow, d.W, d.OW);
    const T* xp = x + p * d.H * d.W;
    T s = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * d.W + iw];
    y[i] = s / (T)((h1 - h0) * (w1 - w0));
  }
}

// The same with one warp per output: the lanes stride over the bin's elements and
// combine through shuffles, accumulating in double. The loop bound is the same for
// the 32 lanes of a warp (blockDim is a multiple of 32), so every shuffle has all of them.
template <class T>
__global__ void adaptive_avg_pool2d_warp_kernel(const T* x, T* y, PoolDims d) {
  const int64_t n = d.planes * d.OH * d.OW, warps = (int64_t)gridDim.x * blockDim.x / 32;
  const int lane = threadIdx.x % 32;
  for (int64_t i = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32; i < n; i += warps) {
    const int64_t ow = i % d.OW, oh = (i / d.OW) % d.OH, p = i / (d.OW * d.OH);
    const int64_t h0 = bin_start(oh, d.H, d.OH), h1 = bin_end(oh, d.H, d.OH);
    const int64_t w0 = bin_start(ow, d.W, d.OW), w1 = bin_end(ow, d.W, d.OW);
    const int64_t bw = w1 - w0, area = (h1 - h0) * bw;
    const T* xp = x + p * d.H * d.W;
    double s = 0;
    for (int64_t j = lane; j < area; j += 32) s += (double)xp[(h0 + j / bw) * d.W + w0 + j % bw];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) y[i] = (T)(s / (double)area);
  }
}

// gx[ih, iw] = Σ over the bins (oh, ow) containing it of gy[oh, ow] / |bin|. Bin oh
// contains ih iff ⌊ih·OH/H⌋ ≤ oh < ⌈(ih+1)·OH/H⌉ (from the bin bounds above); the
// membership test inside the loop keeps the sum exact even if that range were loose.
template <class T>
__global__ void adaptive_avg_pool2d_backward_kernel(const T* gy, T* gx, PoolDims d) {
  const int64_t n = d.planes * d.H * d.W;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t iw = i % d.W, ih = (i / d.W) % d.H, p = i / (d.W * d.H);
    const T* gp = gy + p * d.OH * d.OW;
    T s = 0;
    for (int64_t oh = ih * d.OH / d.H; oh < ((ih + 1) * d.OH + d.H - 1) / d.H; ++oh) {
      const int64_t h0 = bin_start(oh, d.H, d.OH), h1 = bin_end(oh, d.H, d.OH);
      if (ih < h0 || ih >= h1) continue;
      for (int64_t ow = iw * d.OW / d.W; ow < ((iw + 1) * d.OW + d.W - 1) / d.W; ++ow) {
        const int64_t w0 = bin_start(ow, d.W, d.OW), w1 = bin_end(ow, d.W, d.OW);
        if (iw < w0 || iw >= w1) continue;
        s += gp[oh * d.OW + ow] / (T)((h1 - h0) * (w1 - w0));
      }
    }
    gx[i] = s;
  }
}

}  // namespace

cudaError_t launch_max_pool2d(cudaStream_t s, DType dt, const void* x, void* y, int64_t* indices, const PoolDims& d) {
  const int64_t n = d.planes * d.OH * d.OW;
  if (n == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    max_pool2d_kernel<T><<<grid_for(n), kThreads, 0, s>>>((const T*)x, (T*)y, indices, d);
    return cudaGetLastError();
  });
}

// Bins of at least kWarpBin elements on average get a warp each: a lone thread
// summing a 224×224 plane would take thousands of dependent, uncoalesced loads.
constexpr int64_t kWarpBin = 16;

cudaError_t launch_adaptive_avg_pool2d(cudaStream_t s, DType dt, const void* x, void* y, const PoolDims& d) {
  const int64_t n = d.planes * d.OH * d.OW;
  if (n == 0) return cudaSuccess;
  const bool per_warp = d.H * d.W >= kWarpBin * d.OH * d.OW;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    if (per_warp) {
      adaptive_avg_pool2d_warp_kernel<T><<<grid_for(32 * n), kThreads, 0, s>>>((const T*)x, (T*)y, d);
    } else {
      adaptive_avg_pool2d_kernel<T><<<grid_for(n), kThreads, 0, s>>>((const T*)x, (T*)y, d);
    }
    return cudaGetLastError();
  });
}

cudaError_t launch_adaptive_avg_pool2d_backward(cudaStream_t s, DType dt, const void* gy, void* gx,
                                                const PoolDims& d) {
  const int64_t n = d.planes * d.H * d.W;
  if (n == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    adaptive_avg_pool2d_backward_kernel<T><<<grid_for(n), kThreads, 0, s>>>((const T*)gy, (T*)gx, d);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
