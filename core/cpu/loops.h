#pragma once
// Strided elementwise loops for CPU kernels. Operands are views already broadcast to
// the output's shape (stride 0 on broadcast dims). Dimensions are coalesced, the
// index range is split across OpenMP threads, and the innermost loop runs on raw
// pointers, so contiguous operands get a plain vectorizable loop and no temporaries.
// Activation and op kernels use map1/map2/map3 with a lambda for the element math.
// Every thread of a loop runs under a DenormalScope (core/parallel.h).
#include <array>
#include <cstdint>
#include <omp.h>

#include "core/parallel.h"
#include "core/tensor.h"

namespace tg::cpu {

// Below this many elements a loop runs on one thread (thread start-up would dominate).
inline constexpr int64_t kParallelGrain = 32768;

template <int N>
struct Loop {
  Shape shape;                          // coalesced
  std::array<std::vector<int64_t>, N> strides;  // bytes, per coalesced dim
  std::array<char*, N> base{};
};

template <int N>
Loop<N> make_loop(const std::array<const Tensor*, N>& ts) {
  Loop<N> L;
  const Shape& shape = ts[0]->shape();
  for (int k = 0; k < N; ++k) {
    L.base[k] = static_cast<char*>(ts[k]->raw_data());
    TG_CHECK(ts[k]->shape() == shape, "cpu loop", "operand shapes differ: {} vs {}", shape_str(ts[k]->shape()),
             shape_str(shape));
  }
  // Keep non-unit dims, then merge neighbours that are contiguous for every operand.
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !L.shape.empty();
    for (int k = 0; k < N && merge; ++k)
      merge = L.strides[k].back() == ts[k]->stride(d) * (int64_t)ts[k]->element_size() * shape[d];
    if (merge) {
      L.shape.back() *= shape[d];
      for (int k = 0; k < N; ++k) L.strides[k].back() = ts[k]->stride(d) * (int64_t)ts[k]->element_size();
    } else {
      L.shape.push_back(shape[d]);
      for (int k = 0; k < N; ++k) L.strides[k].push_back(ts[k]->stride(d) * (int64_t)ts[k]->element_size());
    }
  }
  if (L.shape.empty()) {
    L.shape.push_back(1);
    for (int k = 0; k < N; ++k) L.strides[k].push_back(0);
  }
  return L;
}

// Calls inner(n, ptrs, byte_strides) over runs of the innermost dimension covering
// linear indices [begin, end).
template <int N, class Inner>
void loop_range(const Loop<N>& L, int64_t begin, int64_t end, Inner&& inner) {
  const int64_t nd = (int64_t)L.shape.size();
  const int64_t inner_n = L.shape[nd - 1];
  std::array<int64_t, N> inner_stride;
  for (int k = 0; k < N; ++k) inner_stride[k] = L.strides[k][nd - 1];
  std::vector<int64_t> idx(nd, 0);
  int64_t rem = begin;
  for (int64_t d = nd - 1; d >= 0; --d) {
    idx[d] = rem % L.shape[d];
    rem /= L.shape[d];
  }
  int64_t i = begin;
  while (i < end) {
    std::array<char*, N> p;
    for (int k = 0; k < N; ++k) {
      char* q = L.base[k];
      for (int64_t d = 0; d < nd; ++d) q += idx[d] * L.strides[k][d];
      p[k] = q;
    }
    const int64_t n = std::min(inner_n - idx[nd - 1], end - i);
    inner(n, p, inner_stride);
    i += n;
    idx[nd - 1] += n;
    for (int64_t d = nd - 1; d > 0 && idx[d] >= L.shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

template <int N, class Inner>
void parallel_loop(const std::array<const Tensor*, N>& ts, Inner&& inner) {
  Loop<N> L = make_loop<N>(ts);
  const int64_t total = ts[0]->numel();
  if (total == 0) return;
  if (total < kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    const DenormalScope denormals;
    loop_range<N>(L, 0, total, inner);
    return;
  }
#pragma omp parallel
  {
    const DenormalScope denormals;
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t chunk = (total + nt - 1) / nt;
    const int64_t b = std::min(total, t * chunk), e = std::min(total, b + chunk);
    if (b < e) loop_range<N>(L, b, e, inner);
  }
}

// Runs body(i) for i in [0, n): on OpenMP threads when `parallel` (static schedule, so
// each thread gets the same indices on every call), else on the calling thread.
template <class Body>
void parallel_for(int64_t n, bool parallel, Body&& body) {
#pragma omp parallel if (parallel)
  {
    const DenormalScope denormals;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
  }
}

// Σ_{i<n} f(i) in double, as 8 interleaved partial sums that the compiler turns into
// packet adds (one double chain costs an add's latency, ~4 cycles, per element).
// The grouping depends on n only, so the result is the same on every call.
template <class F>
double sum_double(int64_t n, F f) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += (double)f(i + k);
  double tail = 0;
  for (; i < n; ++i) tail += (double)f(i);
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

// out = f(a)
template <class To, class Ta, class F>
void map1(const Tensor& out, const Tensor& a, F f) {
  parallel_loop<2>({&out, &a}, [&](int64_t n, const std::array<char*, 2>& p, const std::array<int64_t, 2>& s) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ta* x = reinterpret_cast<const Ta*>(p[1]);
    if (s[0] == sizeof(To) && s[1] == sizeof(Ta)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<To*>(p[0] + i * s[0]) = f(*reinterpret_cast<const Ta*>(p[1] + i * s[1]));
    }
  });
}

// out = f(a, b)
template <class To, class Ta, class Tb, class F>
void map2(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  parallel_loop<3>({&out, &a, &b}, [&](int64_t n, const std::array<char*, 3>& p, const std::array<int64_t, 3>& s) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ta* x = reinterpret_cast<const Ta*>(p[1]);
    const Tb* y = reinterpret_cast<const Tb*>(p[2]);
    if (s[0] == sizeof(To) && s[1] == sizeof(Ta) && s[2] == sizeof(Tb)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (s[0] == sizeof(To) && s[1] == sizeof(Ta) && s[2] == 0) {
      const Tb yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<To*>(p[0] + i * s[0]) =
            f(*reinterpret_cast<const Ta*>(p[1] + i * s[1]), *reinterpret_cast<const Tb*>(p[2] + i * s[2]));
    }
  });
}

// out = f(a, b, c)
template <class To, class Ta, class Tb, class Tc, class F>
void map3(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  parallel_loop<4>({&out, &a, &b, &c},
                   [&](int64_t n, const std::array<char*, 4>& p, const std::array<int64_t, 4>& s) {
                     if (s[0] == sizeof(To) && s[1] == sizeof(Ta) && s[2] == sizeof(Tb) && s[3] == sizeof(Tc)) {
                       To* o = reinterpret_cast<To*>(p[0]);
                       const Ta* x = reinterpret_cast<const Ta*>(p[1]);
                       const Tb* y = reinterpret_cast<const Tb*>(p[2]);
                       const Tc* z = reinterpret_cast<const Tc*>(p[3]);
                       for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i], z[i]);
                     } else {
                       for (int64_t i = 0; i < n; ++i)
                         *reinterpret_cast<To*>(p[0] + i * s[0]) = f(*reinterpret_cast<const Ta*>(p[1] + i * s[1]),
                                                                     *reinterpret_cast<const Tb*>(p[2] + i * s[2]),
                                                                     *reinterpret_cast<const Tc*>(p[3] + i * s[3]));
                     }
                   });
}

// Runs body(T) with T = float or double according to dt; `op` names the caller in errors.
template <class Body>
void dispatch_float(DType dt, const char* op, Body&& body) {
  if (dt == DType::f32) {
    body(float{});
  } else if (dt == DType::f64) {
    body(double{});
  } else {
    throw Error(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(dt));
  }
}

}  // namespace tg::cpu
