// Fused CUDA kernels of the vector activations: the GPU side of
// activations/vector_kernels.h, with the same math per vector v (r = ‖v‖, g upstream):
//   y = s(r)·v,   ∂L/∂v = s·g + (s′(r)/r)(v·g)·v,   ∂L/∂θ = Σ_v (v·g)·∂s/∂θ.
// Norms and dot products are accumulated in double and the gate is evaluated once per
// vector in double by the host's own code (chi_gate.h, special.h), then cast to T as
// the CPU kernels do, so both backends agree to rounding. Each kernel reads its inputs
// once and writes its output once (forward: x in, y out; backward: x, g in, dx out):
//  * blocks(k): one thread per k×k block. The threads of a warp take neighbouring
//    blocks of a block row, so a row load covers consecutive addresses along W. For
//    k = 4 (the default) with W % 4 == 0 each block row is one 16-byte load (two for
//    double) and the block stays in registers between its norm and its write.
//  * last_dim and channels ("strided": d elements `step` apart): a group of L lanes
//    (a power of two ≤ 32) per vector, lane j taking elements j, j+L, …, the sums
//    combined with shuffles. Channels over ≥ 32 positions use L = 1: one thread per
//    pixel loops over C while its warp reads 32 adjacent pixels of each channel.
//    Otherwise L ≈ d/4: a warp per vector for d ≥ 128, a thread per vector for d ≤ 4.
// The gate-parameter gradient (VecErf's σ) is summed per thread in loop order, then
// per block by a fixed tree, then over the blocks by one block: no float atomics, so
// it is reproducible run to run.
#include <cmath>

#include "activations/chi_gate.h"
#include "activations/norm_gate.h"
#include "activations/cuda/vector_launch.h"
#include "activations/special.h"
#include "core/cuda/device.cuh"
#include "core/philox.h"

namespace tg::cuda {
namespace {

// What a gate returns for the backward: s, s′(r)/r and ∂s/∂θ (0 without a parameter).
struct GateGrad {
  double s, coef, dparam;
};

// VecGELU: s = P(d/2, r²/2) and s′/r = ∂P/∂x (d/2, r²/2) (derivation in vec_gelu.cpp).
struct GeluGate {
  __device__ double forward(int64_t, double r2, int64_t d) const {
    double p, dp;
    act::chi_gate(d, 0.5 * r2, p, dp);
    return p;
  }
  __device__ GateGrad backward(int64_t, double r2, int64_t d) const {
    double p, dp;
    act::chi_gate(d, 0.5 * r2, p, dp);
    return {p, dp, 0.0};
  }
};

// VecErf: s = erf(r·inv) with inv = 1/(√2σ); s′ = k·e^(−r²inv²) with k = √(2/π)/σ;
// ∂s/∂σ = −s′·r/σ (derivation in vec_erf.cpp). s′/r is 0 at r = 0, ∂s/∂σ 0 where s′
// underflows, as on the CPU.
struct ErfGate {
  double inv, k, sigma;
  __device__ double forward(int64_t, double r2, int64_t) const { return special::erf(::sqrt(r2) * inv); }
  __device__ GateGrad backward(int64_t, double r2, int64_t) const {
    const double r = ::sqrt(r2), ds = k * ::exp(-r2 * inv * inv);
    return {special::erf(r * inv), r > 0 ? ds / r : 0.0, ds > 0 ? -ds * r / sigma : 0.0};
  }
};

// Norm gates (norm_gate.h): φ built in (Norm) or read from a per-vector table (Table),
// s, s′/r and ∂s/∂b from norm_gate() as on the CPU.
struct NormGateDev {
  act::PhiKind kind;
  bool normalize;
  const double* bias;  // `groups` values
  int64_t stride, groups;
  const double* table;  // non-null: φ(t), φ′(t) per vector
  __device__ act::NormGate at(int64_t v, double r2) const {
    const double r = ::sqrt(r2);
    const act::PhiValue p = table != nullptr ? act::PhiValue{table[2 * v], table[2 * v + 1]}
                                             : act::phi_value(kind, r + bias[(v / stride) % groups]);
    return act::norm_gate(r, p, normalize);
  }
  __device__ double forward(int64_t v, double r2, int64_t) const { return at(v, r2).s; }
  __device__ GateGrad backward(int64_t v, double r2, int64_t) const {
    const act::NormGate q = at(v, r2);
    return {q.s, q.h, q.ds_db};
  }
};

// A given scale per vector (scale_vectors): ∂s/∂θ = 1 makes the per-vector output v·g.
template <class T>
struct GivenScale {
  const T* scale;
  __device__ double forward(int64_t v, double, int64_t) const { return (double)scale[v]; }
  __device__ GateGrad backward(int64_t v, double, int64_t) const { return {(double)scale[v], 0.0, 1.0}; }
};

// Per-vector dropout: scale_v = [u_v ≤ keep]·kept_scale, saved, u_v as MaskGate draws it.
template <class T>
struct DropoutGate {
  T* scale;
  uint64_t seed, offset;
  double keep, kept_scale;
  __device__ double forward(int64_t v, double, int64_t) const {
    const double s = philox_uniform(philox4x32(seed, offset + (uint64_t)v).w[0]) <= keep ? kept_scale : 0.0;
    scale[v] = (T)s;
    return s;
  }
};

// Probabilistic VecGELU: saves p_v = P(d/2, r²/2) and scales by the mask [u_v ≤ p_v],
// u_v the uniform of Philox block (seed, offset + v), as the CPU draws it. (With
// several lanes per vector each lane stores the same p_v.)
template <class T>
struct MaskGate {
  T* p;
  uint64_t seed, offset;
  __device__ double forward(int64_t v, double r2, int64_t d) const {
    const double pv = GeluGate{}.forward(v, r2, d);
    p[v] = (T)pv;
    return philox_uniform(philox4x32(seed, offset + (uint64_t)v).w[0]) <= pv ? 1.0 : 0.0;
  }
};

// One saved scale per vector (the probabilistic backward, dx = p·g); r² is unused.
template <class T>
struct SavedScale {
  const T* scale;
  __device__ double forward(int64_t v, double, int64_t) const { return (double)scale[v]; }
};

// {s, (s′/r)(x·g)} in T as the CPU kernel casts them; returns (x·g)·∂s/∂θ. A zero
// vector or a vanishing s′/r gets no second term (avoids 0·∞ at r = 0 or r = ∞).
template <class T, class Gate>
__device__ inline double backward_coefs(const Gate& gate, int64_t v, double r2, double dot, int64_t d, T& s, T& c) {
  const GateGrad q = gate.backward(v, r2, d);
  s = (T)q.s;
  c = (T)((r2 == 0 || q.coef == 0) ? 0.0 : q.coef * dot);
  return q.dparam != 0 ? dot * q.dparam : 0.0;
}

// The sum of `value` over the block's threads by a fixed tree; every thread must call it,
// and the block must have kThreads threads (every launch in this file uses kThreads).
__device__ inline double block_sum(double value) {
  __shared__ double buf[kThreads];
  buf[threadIdx.x] = value;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  return buf[0];
}

__device__ inline double sum4(const double a[4]) { return (a[0] + a[1]) + (a[2] + a[3]); }

// acc[e & 3] += value, with constant indices only (run-time indexing would move acc
// to local memory).
__device__ inline void add_at(double acc[4], int64_t e, double value) {
  switch (e & 3) {
    case 0: acc[0] += value; break;
    case 1: acc[1] += value; break;
    case 2: acc[2] += value; break;
    default: acc[3] += value; break;
  }
}

// ---- blocks(k): one thread per block ----------------------------------------------

// Block v: the rows×cols patch at element `base`, rows W apart.
struct Patch {
  int64_t base, rows, cols;
};
__device__ inline Patch block_patch(const VectorDesc& q, int64_t v) {
  const int64_t per_plane = q.nbh * q.nbw, plane = v / per_plane, b = v - plane * per_plane;
  const int64_t bi = b / q.nbw, bj = b - bi * q.nbw, r0 = bi * q.k, c0 = bj * q.k;
  return {plane * q.h * q.w + r0 * q.w + c0, q.h - r0 < q.k ? q.h - r0 : q.k, q.w - c0 < q.k ? q.w - c0 : q.k};
}

// f(offset, e) for the e-th element (row-major) of patch p.
template <class F>
__device__ inline void for_each_element(const Patch& p, int64_t w, F&& f) {
  int64_t e = 0;
  for (int64_t i = 0; i < p.rows; ++i)
    for (int64_t j = 0; j < p.cols; ++j, ++e) f(p.base + i * w + j, e);
}

// Four consecutive elements from/to a 16-byte aligned address: one float4 or two double2.
__device__ inline void load4(const float* p, float v[4]) {
  const float4 a = __ldg(reinterpret_cast<const float4*>(p));
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w;
}
__device__ inline void load4(const double* p, double v[4]) {
  const double2 a = __ldg(reinterpret_cast<const double2*>(p)), b = __ldg(reinterpret_cast<const double2*>(p) + 1);
  v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
}
__device__ inline void store4(float* p, const float v[4]) { *reinterpret_cast<float4*>(p) = {v[0], v[1], v[2], v[3]}; }
__device__ inline void store4(double* p, const double v[4]) {
  reinterpret_cast<double2*>(p)[0] = {v[0], v[1]};
  reinterpret_cast<double2*>(p)[1] = {v[2], v[3]};
}

// y_v = s(r)·x_v. quad: k = 4, W % 4 == 0 and 16-byte aligned pointers, so every block
// row is 4 aligned elements; the partial sums acc[e & 3] follow the CPU kernel's order.
template <class T, class Gate>
__global__ void blocks_forward(VectorDesc q, bool quad, Gate gate, const T* __restrict__ x, T* __restrict__ y) {
  for (int64_t v = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; v < q.count; v += (int64_t)gridDim.x * blockDim.x) {
    const Patch p = block_patch(q, v);
    if (quad) {
      T e[4][4];
      double acc[4] = {0, 0, 0, 0};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (i >= p.rows) break;
        load4(x + p.base + i * q.w, e[i]);
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[j] += (double)e[i][j] * e[i][j];
      }
      const T s = (T)gate.forward(v, sum4(acc), 4 * p.rows);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (i >= p.rows) break;
#pragma unroll
        for (int j = 0; j < 4; ++j) e[i][j] *= s;
        store4(y + p.base + i * q.w, e[i]);
      }
      continue;
    }
    double acc[4] = {0, 0, 0, 0};
    for_each_element(p, q.w, [&](int64_t o, int64_t e) { add_at(acc, e, (double)x[o] * x[o]); });
    const T s = (T)gate.forward(v, sum4(acc), p.rows * p.cols);
    for_each_element(p, q.w, [&](int64_t o, int64_t) { y[o] = s * x[o]; });
  }
}

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v; partials[block] = Σ (x_v·g_v)·∂s/∂θ and
// per_vector[v] = (x_v·g_v)·∂s/∂θ when non-null.
template <class T, class Gate>
__global__ void blocks_backward(VectorDesc q, bool quad, Gate gate, const T* __restrict__ x, const T* __restrict__ g,
                                T* __restrict__ dx, double* partials, double* per_vector) {
  double local = 0;
  for (int64_t v = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; v < q.count; v += (int64_t)gridDim.x * blockDim.x) {
    const Patch p = block_patch(q, v);
    T s, c;
    if (quad) {
      T xe[4][4], ge[4][4];
      double acc[4] = {0, 0, 0, 0}, dacc[4] = {0, 0, 0, 0};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (i >= p.rows) break;
        load4(x + p.base + i * q.w, xe[i]);
        load4(g + p.base + i * q.w, ge[i]);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          acc[j] += (double)xe[i][j] * xe[i][j];
          dacc[j] += (double)xe[i][j] * ge[i][j];
        }
      }
      const double term = backward_coefs(gate, v, sum4(acc), sum4(dacc), 4 * p.rows, s, c);
      local += term;
      if (per_vector != nullptr) per_vector[v] = term;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if (i >= p.rows) break;
#pragma unroll
        for (int j = 0; j < 4; ++j) ge[i][j] = s * ge[i][j] + c * xe[i][j];
        store4(dx + p.base + i * q.w, ge[i]);
      }
      continue;
    }
    double acc[4] = {0, 0, 0, 0}, dacc[4] = {0, 0, 0, 0};
    for_each_element(p, q.w, [&](int64_t o, int64_t e) {
      add_at(acc, e, (double)x[o] * x[o]);
      add_at(dacc, e, (double)x[o] * g[o]);
    });
    const double term = backward_coefs(gate, v, sum4(acc), sum4(dacc), p.rows * p.cols, s, c);
    local += term;
    if (per_vector != nullptr) per_vector[v] = term;
    for_each_element(p, q.w, [&](int64_t o, int64_t) { dx[o] = s * g[o] + c * x[o]; });
  }
  if (partials != nullptr) {
    const double sum = block_sum(local);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
  }
}

// ---- last_dim and channels: a group of 2^lane_bits lanes per vector ------------------

__device__ inline int64_t strided_base(const VectorDesc& q, int64_t v) {
  return q.step == 1 ? v * q.d : (v / q.step) * q.d * q.step + v % q.step;
}

// The sum over the group's lanes (aligned groups of `lanes` within the warp); every
// lane of the warp must call it. The butterfly leaves the same value in every lane.
__device__ inline double group_sum(double value, int lanes) {
  for (int o = lanes >> 1; o > 0; o >>= 1) value += __shfl_xor_sync(0xffffffffu, value, o);
  return value;
}

// The grid-stride loop runs over count·lanes lane slots rounded up to whole warps, so
// every lane of a warp takes the same number of trips (the shuffles need all 32);
// slots past the last vector only join the shuffles.
__device__ inline int64_t lane_slots(const VectorDesc& q, int lane_bits) {
  return ((q.count << lane_bits) + 31) & ~int64_t(31);
}

// y_v = s(r)·x_v. (The launch bounds cost no spills here and lift occupancy; in the
// blocks kernels they would spill, so those are left to the compiler.)
template <class T, class Gate>
__global__ void __launch_bounds__(kThreads, 4)
    strided_forward(VectorDesc q, int lane_bits, Gate gate, const T* __restrict__ x, T* __restrict__ y) {
  const int lanes = 1 << lane_bits;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < lane_slots(q, lane_bits);
       t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t v = t >> lane_bits, j = t & (lanes - 1), n = v < q.count ? q.d : 0;
    const int64_t base = n > 0 ? strided_base(q, v) : 0;
    double r2 = 0;
    for (int64_t e = j; e < n; e += lanes) {
      const double xv = x[base + e * q.step];
      r2 += xv * xv;
    }
    r2 = group_sum(r2, lanes);
    if (n == 0) continue;
    const T s = (T)gate.forward(v, r2, q.d);
    for (int64_t e = j; e < n; e += lanes) y[base + e * q.step] = s * x[base + e * q.step];
  }
}

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v; lane 0 of each group adds the vector's ∂L/∂θ term.
template <class T, class Gate>
__global__ void __launch_bounds__(kThreads, 3)
    strided_backward(VectorDesc q, int lane_bits, Gate gate, const T* __restrict__ x, const T* __restrict__ g,
                     T* __restrict__ dx, double* partials, double* per_vector) {
  const int lanes = 1 << lane_bits;
  double local = 0;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < lane_slots(q, lane_bits);
       t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t v = t >> lane_bits, j = t & (lanes - 1), n = v < q.count ? q.d : 0;
    const int64_t base = n > 0 ? strided_base(q, v) : 0;
    double r2 = 0, dot = 0;
    for (int64_t e = j; e < n; e += lanes) {
      const double xv = x[base + e * q.step];
      r2 += xv * xv;
      dot += xv * (double)g[base + e * q.step];
    }
    r2 = group_sum(r2, lanes);
    dot = group_sum(dot, lanes);
    if (n == 0) continue;
    T s, c;
    const double dparam = backward_coefs(gate, v, r2, dot, q.d, s, c);
    if (j == 0) {
      local += dparam;
      if (per_vector != nullptr) per_vector[v] = dparam;
    }
    for (int64_t e = j; e < n; e += lanes) {
      const int64_t o = base + e * q.step;
      dx[o] = s * g[o] + c * x[o];
    }
  }
  if (partials != nullptr) {
    const double sum = block_sum(local);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
  }
}

__global__ void sum_partials(const double* partials, int64_t n, double* out) {
  double local = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) local += partials[i];
  const double sum = block_sum(local);
  if (threadIdx.x == 0) out[0] = sum;
}

// ---- launch configuration -----------------------------------------------------------

// Lanes per strided vector (log2): 1 for channels over ≥ 32 positions (a warp spans 32
// pixels), else the smallest power of two with 4 elements or fewer per lane, ≤ 32.
int lane_bits_of(const VectorDesc& q) {
  if (q.step >= 32) return 0;
  int bits = 0;
  while (bits < 5 && (int64_t(4) << bits) < q.d) ++bits;
  return bits;
}

unsigned grid_of(const VectorDesc& q) {
  return grid_for(q.blocks ? q.count : ((q.count << lane_bits_of(q)) + 31) & ~int64_t(31));
}

bool aligned16(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool quad_of(const VectorDesc& q, const void* a, const void* b, const void* c = nullptr, const void* d = nullptr) {
  return q.k == 4 && q.w % 4 == 0 && aligned16(a) && aligned16(b) && aligned16(c) && aligned16(d);
}

template <class T, class Gate>
cudaError_t forward(cudaStream_t stream, const VectorDesc& q, const Gate& gate, const void* x, void* y) {
  if (q.count == 0) return cudaSuccess;
  if (q.blocks)
    blocks_forward<T><<<grid_of(q), kThreads, 0, stream>>>(q, quad_of(q, x, y), gate, (const T*)x, (T*)y);
  else
    strided_forward<T><<<grid_of(q), kThreads, 0, stream>>>(q, lane_bits_of(q), gate, (const T*)x, (T*)y);
  return cudaGetLastError();
}

template <class T, class Gate>
cudaError_t backward(cudaStream_t stream, const VectorDesc& q, const Gate& gate, const void* x, const void* g,
                     void* dx, double* partials, double* per_vector) {
  if (q.count == 0) return cudaSuccess;
  if (q.blocks)
    blocks_backward<T><<<grid_of(q), kThreads, 0, stream>>>(q, quad_of(q, x, g, dx), gate, (const T*)x, (const T*)g,
                                                            (T*)dx, partials, per_vector);
  else
    strided_backward<T><<<grid_of(q), kThreads, 0, stream>>>(q, lane_bits_of(q), gate, (const T*)x, (const T*)g,
                                                             (T*)dx, partials, per_vector);
  return cudaGetLastError();
}

// The constants of vec_erf.cpp, computed by the same expressions.
ErfGate erf_gate(double sigma) { return {1 / (M_SQRT2 * sigma), std::sqrt(2 / M_PI) / sigma, sigma}; }

NormGateDev norm_gate_of(const GateParams& a, bool table) {
  return {(act::PhiKind)a.phi, a.normalize, a.bias, a.group_stride, a.groups, table ? a.table : nullptr};
}

// body(gate) with the gate object of `gate` and `a`; T is the tensors' dtype.
template <class T, class Body>
cudaError_t with_gate(VectorGate gate, const GateParams& a, Body&& body) {
  switch (gate) {
    case VectorGate::VecGelu: return body(GeluGate{});
    case VectorGate::Erf: return body(erf_gate(a.sigma));
    case VectorGate::Norm: return body(norm_gate_of(a, false));
    case VectorGate::Table: return body(norm_gate_of(a, true));
    case VectorGate::Scale: return body(GivenScale<T>{(const T*)a.scale});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_vector_forward(cudaStream_t stream, DType dt, const VectorDesc& desc, VectorGate gate,
                                  const GateParams& params, const void* x, void* y) {
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    return with_gate<T>(gate, params, [&](const auto& g) { return forward<T>(stream, desc, g, x, y); });
  });
}

cudaError_t launch_vector_dropout(cudaStream_t stream, DType dt, const VectorDesc& desc, uint64_t seed, uint64_t offset,
                                  double keep, double kept_scale, const void* x, void* y, void* scale) {
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    return forward<T>(stream, desc, DropoutGate<T>{(T*)scale, seed, offset, keep, kept_scale}, x, y);
  });
}

cudaError_t launch_vector_prob_forward(cudaStream_t stream, DType dt, const VectorDesc& desc, uint64_t seed,
                                       uint64_t offset, const void* x, void* y, void* p) {
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    return forward<T>(stream, desc, MaskGate<T>{(T*)p, seed, offset}, x, y);
  });
}

cudaError_t launch_vector_scale(cudaStream_t stream, DType dt, const VectorDesc& desc, const void* in,
                                const void* scale, void* out) {
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    return forward<T>(stream, desc, SavedScale<T>{(const T*)scale}, in, out);
  });
}

int64_t vector_backward_partials(const VectorDesc& desc) { return desc.count == 0 ? 0 : grid_of(desc); }

cudaError_t launch_vector_backward(cudaStream_t stream, DType dt, const VectorDesc& desc, VectorGate gate,
                                   const GateParams& params, const void* x, const void* g, void* dx, double* partials,
                                   double* per_vector) {
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    return with_gate<T>(gate, params,
                        [&](const auto& q) { return backward<T>(stream, desc, q, x, g, dx, partials, per_vector); });
  });
}

cudaError_t launch_sum_partials(cudaStream_t stream, const double* partials, int64_t n, double* out) {
  sum_partials<<<1, kThreads, 0, stream>>>(partials, n, out);
  return cudaGetLastError();
}

}  // namespace tg::cuda
