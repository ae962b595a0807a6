// Elementwise kernels over strided, broadcast operands: fill, dtype conversion,
// unary and binary math, where. One grid-stride loop per arity; the op is a
// run-time switch (uniform across the grid), which keeps instantiations few.
#include <cmath>

#include "core/cuda/device.cuh"

namespace tg::cuda {

template <class T>
__global__ void fill_kernel(T* out, Strided<1> d, T v) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[1];
    offsets<1>(d, i, off);
    out[off[0]] = v;
  }
}

cudaError_t launch_fill(cudaStream_t s, DType dt, void* out, const Strided<1>& d, double value) {
  if (d.numel == 0) return cudaSuccess;
  const unsigned g = grid_for(d.numel);
  switch (dt) {
    case DType::f32: fill_kernel<float><<<g, kThreads, 0, s>>>((float*)out, d, (float)value); break;
    case DType::f64: fill_kernel<double><<<g, kThreads, 0, s>>>((double*)out, d, value); break;
    case DType::i64: fill_kernel<int64_t><<<g, kThreads, 0, s>>>((int64_t*)out, d, (int64_t)value); break;
  }
  return cudaGetLastError();
}

template <class To, class From>
__global__ void convert_kernel(To* out, const From* in, Strided<2> d) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[2];
    offsets<2>(d, i, off);
    out[off[0]] = static_cast<To>(in[off[1]]);
  }
}

template <class To>
static cudaError_t convert_from(cudaStream_t s, To* out, DType from, const void* in, const Strided<2>& d) {
  const unsigned g = grid_for(d.numel);
  switch (from) {
    case DType::f32: convert_kernel<To, float><<<g, kThreads, 0, s>>>(out, (const float*)in, d); break;
    case DType::f64: convert_kernel<To, double><<<g, kThreads, 0, s>>>(out, (const double*)in, d); break;
    case DType::i64: convert_kernel<To, int64_t><<<g, kThreads, 0, s>>>(out, (const int64_t*)in, d); break;
  }
  return cudaGetLastError();
}

cudaError_t launch_convert(cudaStream_t s, DType to, void* out, DType from, const void* in, const Strided<2>& d) {
  if (d.numel == 0) return cudaSuccess;
  switch (to) {
    case DType::f32: return convert_from<float>(s, (float*)out, from, in, d);
    case DType::f64: return convert_from<double>(s, (double*)out, from, in, d);
    case DType::i64: return convert_from<int64_t>(s, (int64_t*)out, from, in, d);
  }
  return cudaErrorInvalidValue;
}

// The same element math as the CPU backend (core/cpu/cpu_backend.cpp).
template <class T>
__device__ inline T unary_op(KUnary op, T v, T a, T b) {
  switch (op) {
    case KUnary::Neg: return -v;
    case KUnary::Exp: return exp(v);
    case KUnary::Log: return log(v);
    case KUnary::Sqrt: return sqrt(v);
    case KUnary::Abs: return fabs(v);
    case KUnary::Sign: return T((v > 0) - (v < 0));
    case KUnary::Square: return v * v;
    case KUnary::Reciprocal: return T(1) / v;
    case KUnary::Clamp: return v < a ? a : (v > b ? b : v);
    case KUnary::PowScalar: return a == T(2) ? v * v : pow(v, a);
    case KUnary::AddScalar: return v + a;
    case KUnary::MulScalar: return v * a;
    case KUnary::RSubScalar: return a - v;
  }
  return v;
}

template <class T>
__global__ void unary_kernel(KUnary op, T* out, const T* x, Strided<2> d, T a, T b) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[2];
    offsets<2>(d, i, off);
    out[off[0]] = unary_op<T>(op, x[off[1]], a, b);
  }
}

cudaError_t launch_unary(cudaStream_t s, KUnary op, DType dt, void* out, const void* x, const Strided<2>& d, double p0,
                         double p1) {
  if (d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    unary_kernel<T><<<grid_for(d.numel), kThreads, 0, s>>>(op, (T*)out, (const T*)x, d, (T)p0, (T)p1);
    return cudaGetLastError();
  });
}

// Max/Min propagate NaN (as torch.maximum/minimum); comparisons give 1 or 0.
template <class T>
__device__ inline T binary_op(KBinary op, T x, T y) {
  switch (op) {
    case KBinary::Add: return x + y;
    case KBinary::Sub: return x - y;
    case KBinary::Mul: return x * y;
    case KBinary::Div: return x / y;
    case KBinary::Pow: return pow(x, y);
    case KBinary::Max: return (x != x || x > y) ? x : y;
    case KBinary::Min: return (x != x || x < y) ? x : y;
    case KBinary::Eq: return T(x == y);
    case KBinary::Ne: return T(x != y);
    case KBinary::Lt: return T(x < y);
    case KBinary::Le: return T(x <= y);
    case KBinary::Gt: return T(x > y);
    case KBinary::Ge: return T(x >= y);
  }
  return x;
}

template <class T>
__global__ void binary_kernel(KBinary op, T* out, const T* a, const T* b, Strided<3> d) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[3];
    offsets<3>(d, i, off);
    out[off[0]] = binary_op<T>(op, a[off[1]], b[off[2]]);
  }
}

cudaError_t launch_binary(cudaStream_t s, KBinary op, DType dt, void* out, const void* a, const void* b,
                          const Strided<3>& d) {
  if (d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    binary_kernel<T><<<grid_for(d.numel), kThreads, 0, s>>>(op, (T*)out, (const T*)a, (const T*)b, d);
    return cudaGetLastError();
  });
}

template <class T>
__global__ void where_kernel(T* out, const T* c, const T* a, const T* b, Strided<4> d) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < d.numel; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t off[4];
    offsets<4>(d, i, off);
    out[off[0]] = c[off[1]] != T(0) ? a[off[2]] : b[off[3]];
  }
}

cudaError_t launch_where(cudaStream_t s, DType dt, void* out, const void* cond, const void* a, const void* b,
                         const Strided<4>& d) {
  if (d.numel == 0) return cudaSuccess;
  return dispatch_float(dt, [&](auto zero) {
    using T = decltype(zero);
    where_kernel<T><<<grid_for(d.numel), kThreads, 0, s>>>((T*)out, (const T*)cond, (const T*)a, (const T*)b, d);
    return cudaGetLastError();
  });
}

}  // namespace tg::cuda
