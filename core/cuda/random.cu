// Philox draws on the device, from the same words as the CPU backend's
// (core/random.cpp): element i (row-major over out) uses block (seed, offset + i) of
// philox.h and the same double-precision math. Uniform(0, 1] and Bernoulli draws are
// bit-identical to the CPU's; the affine map lo + (hi - lo) * u is one FMA, as GCC
// contracts it on x86-64 with FMA (-march=native), so those match too; normal draws
// go through libm's and CUDA's log and cos, which may differ in the last bit.
#include <cmath>

#include "core/cuda/device.cuh"
#include "core/philox.h"

namespace tg::cuda {

template <class T>
__global__ void random_kernel(KRandom kind, T* out, const T* p, Strided<2> d, uint64_t seed, uint64_t offset, double a,
                              double b) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[2];
    offsets<2>(d, i, off);
    const PhiloxBlock w = philox4x32(seed, offset + (uint64_t)i);
    double v;
    if (kind == KRandom::Uniform) {
      // lo + (hi - lo) * u
      v = fma(b - a, philox_uniform(w.w[0]), a);
    } else if (kind == KRandom::Normal) {
      // Box-Muller: mean + stddev * sqrt(-2 log u1) * cos(2 pi u2)
      const double u1 = philox_uniform(w.w[0]), u2 = philox_uniform(w.w[1]);
      v = a + b * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    } else {
      v = philox_uniform(w.w[0]) <= (double)p[off[1]] ? 1.0 : 0.0;
    }
    out[off[0]] = (T)v;
  }
}

cudaError_t launch_random(cudaStream_t s, KRandom kind, DType dt, void* out, const void* p, const Strided<2>& d,
                          uint64_t seed, uint64_t offset, double a, double b) {
  if (d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    random_kernel<T><<<grid_for(d.numel), kThreads, 0, s>>>(kind, (T*)out, (const T*)p, d, seed, offset, a, b);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
