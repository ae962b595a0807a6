// The CPU backend: elementwise, reductions, indexing and random kernels on strided
// views (see loops.h), and GEMM through Eigen (matmul.cpp).
#include "core/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/cpu/loops.h"
#include "core/cpu/simd.h"
#include "core/random.h"

namespace tg::cpu {

// Freed blocks are kept per size class and reused: first-touch page faults of fresh
// large allocations cost more than the ops themselves (a 64 MB block faulted in ~140 ms
// here against ~30 ms for a pass over it). The cache is capped; beyond it blocks are freed.
static size_t size_class(size_t nbytes) {
  const size_t q = nbytes <= (1 << 20) ? 512 : (1 << 20);
  return (nbytes + q - 1) / q * q;
}

void* CpuBackend::allocate(size_t nbytes) {
  const size_t cls = size_class(nbytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      cached_bytes_ -= cls;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, cls);
  TG_CHECK(p != nullptr, "allocate", "out of host memory allocating {} bytes", nbytes);
  return p;
}

void CpuBackend::deallocate(void* p, size_t nbytes) {
  const size_t cls = size_class(nbytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_bytes_ + cls <= kMaxCachedBytes) {
      free_[cls].push_back(p);
      cached_bytes_ += cls;
      return;
    }
  }
  std::free(p);
}

template <class To, class From>
static void copy_typed(const Tensor& src, const Tensor& dst) {
  map1<To, From>(dst, src, [](From v) { return static_cast<To>(v); });
}

template <class To>
static void copy_from(const Tensor& src, const Tensor& dst) {
  switch (src.dtype()) {
    case DType::f32: copy_typed<To, float>(src, dst); break;
    case DType::f64: copy_typed<To, double>(src, dst); break;
    case DType::i64: copy_typed<To, int64_t>(src, dst); break;
  }
}

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), src.nbytes());
    return;
  }
  switch (dst.dtype()) {
    case DType::f32: copy_from<float>(src, dst); break;
    case DType::f64: copy_from<double>(src, dst); break;
    case DType::i64: copy_from<int64_t>(src, dst); break;
  }
}

template <class T>
static void fill_typed(const Tensor& dst, T v) {
  map1<T, T>(dst, dst, [v](T) { return v; });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  switch (dst.dtype()) {
    case DType::f32: fill_typed<float>(dst, (float)value); break;
    case DType::f64: fill_typed<double>(dst, value); break;
    case DType::i64: fill_typed<int64_t>(dst, (int64_t)value); break;
  }
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  dispatch_float(x.dtype(), "unary", [&](auto zero) {
    using T = decltype(zero);
    const T a = (T)p0, b = (T)p1;
    switch (op) {
      case UnaryOp::Neg: map1<T, T>(out, x, [](T v) { return -v; }); break;
      case UnaryOp::Exp: vmap1<T>(out, x, [](Vec<T> v) { return exp_(v); }); break;
      case UnaryOp::Log: vmap1<T>(out, x, [](Vec<T> v) { return log_(v); }); break;
      case UnaryOp::Sqrt: map1<T, T>(out, x, [](T v) { return std::sqrt(v); }); break;
      case UnaryOp::Abs: map1<T, T>(out, x, [](T v) { return std::abs(v); }); break;
      case UnaryOp::Sign: map1<T, T>(out, x, [](T v) { return T((v > 0) - (v < 0)); }); break;
      case UnaryOp::Square: map1<T, T>(out, x, [](T v) { return v * v; }); break;
      case UnaryOp::Reciprocal: map1<T, T>(out, x, [](T v) { return T(1) / v; }); break;
      case UnaryOp::Clamp: map1<T, T>(out, x, [a, b](T v) { return v < a ? a : (v > b ? b : v); }); break;
      case UnaryOp::PowScalar:
        if (p0 == 2.0) {
          map1<T, T>(out, x, [](T v) { return v * v; });
        } else {
          vmap1<T>(out, x, [a](Vec<T> v) { return pow_(v, Vec<T>(a)); });
        }
        break;
      case UnaryOp::AddScalar: map1<T, T>(out, x, [a](T v) { return v + a; }); break;
      case UnaryOp::MulScalar: map1<T, T>(out, x, [a](T v) { return v * a; }); break;
      case UnaryOp::RSubScalar: map1<T, T>(out, x, [a](T v) { return a - v; }); break;
    }
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "binary", [&](auto zero) {
    using T = decltype(zero);
    switch (op) {
      case BinaryOp::Add: map2<T, T, T>(out, a, b, [](T x, T y) { return x + y; }); break;
      case BinaryOp::Sub: map2<T, T, T>(out, a, b, [](T x, T y) { return x - y; }); break;
      case BinaryOp::Mul: map2<T, T, T>(out, a, b, [](T x, T y) { return x * y; }); break;
      case BinaryOp::Div: map2<T, T, T>(out, a, b, [](T x, T y) { return x / y; }); break;
      case BinaryOp::Pow: vmap2<T>(out, a, b, [](Vec<T> x, Vec<T> y) { return pow_(x, y); }); break;
      // NaN propagates, as in torch.maximum/minimum.
      case BinaryOp::Max:
        map2<T, T, T>(out, a, b, [](T x, T y) { return (x != x || x > y) ? x : y; });
        break;
      case BinaryOp::Min:
        map2<T, T, T>(out, a, b, [](T x, T y) { return (x != x || x < y) ? x : y; });
        break;
      case BinaryOp::Eq: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x == y); }); break;
      case BinaryOp::Ne: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x != y); }); break;
      case BinaryOp::Lt: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x < y); }); break;
      case BinaryOp::Le: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x <= y); }); break;
      case BinaryOp::Gt: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x > y); }); break;
      case BinaryOp::Ge: map2<T, T, T>(out, a, b, [](T x, T y) { return T(x >= y); }); break;
    }
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  dispatch_float(a.dtype(), "where", [&](auto zero) {
    using T = decltype(zero);
    map3<T, T, T, T>(out, cond, a, b, [](T c, T x, T y) { return c != T(0) ? x : y; });
  });
}

// Reduction: the input is viewed as [outer..., reduced...] by permuting the reduced
// dims to the back; each output element walks its reduced block with strides.
template <class T>
static void reduce_typed(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                         const Tensor& index) {
  std::vector<int64_t> perm, kept;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), i)) kept.push_back(i);
  perm = kept;
  perm.insert(perm.end(), dims.begin(), dims.end());
  Tensor xp = x.permute(perm);
  Shape outer_shape(xp.shape().begin(), xp.shape().begin() + kept.size());
  Shape inner_shape(xp.shape().begin() + kept.size(), xp.shape().end());
  Shape outer_stride(xp.strides().begin(), xp.strides().begin() + kept.size());
  Shape inner_stride(xp.strides().begin() + kept.size(), xp.strides().end());
  const int64_t M = shape_numel(outer_shape), K = shape_numel(inner_shape);
  const T* base = x.data<T>();
  // out is contiguous in x's (kept) order with the reduced dims of size 1.
  T* o = out.data<T>();
  int64_t* idx = index.defined() ? index.data<int64_t>() : nullptr;
  auto offset_of = [](int64_t lin, const Shape& shape, const Shape& stride) {
    int64_t off = 0;
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      off += (lin % shape[d]) * stride[d];
      lin /= shape[d];
    }
    return off;
  };
  const bool inner_contig = inner_shape.empty() || Tensor(x.storage(), inner_shape, inner_stride, 0, x.dtype()).is_contiguous();
  auto reduce_block = [&](const T* p, int64_t k0, int64_t k1, double& acc, int64_t& arg) {
    for (int64_t k = k0; k < k1; ++k) {
      const T v = inner_contig ? p[k] : p[offset_of(k, inner_shape, inner_stride)];
      if (op == ReduceOp::Sum) {
        acc += v;
      } else if (std::isnan(acc)) {
        // NaN stays, as in torch.max
      } else if (v != v || (op == ReduceOp::Max ? v > acc : v < acc)) {
        acc = v;
        arg = k;
      }
    }
  };
  const double init = op == ReduceOp::Sum ? 0.0
                      : op == ReduceOp::Max ? -std::numeric_limits<double>::infinity()
                                            : std::numeric_limits<double>::infinity();
  if (M >= omp_get_max_threads() * 4 || K < kParallelGrain) {
    parallel_for(M, M * K >= kParallelGrain, [&](int64_t m) {
      double acc = init;
      int64_t arg = 0;
      reduce_block(base + offset_of(m, outer_shape, outer_stride), 0, K, acc, arg);
      o[m] = (T)acc;
      if (idx) idx[m] = arg;
    });
    return;
  }
  // Few outputs, long reductions: split each block across threads and combine.
  for (int64_t m = 0; m < M; ++m) {
    const T* p = base + offset_of(m, outer_shape, outer_stride);
    const int nt = omp_get_max_threads();
    std::vector<double> part(nt, init);
    std::vector<int64_t> parg(nt, 0);
#pragma omp parallel num_threads(nt)
    {
      const DenormalScope denormals;
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      const int64_t chunk = (K + n - 1) / n;
      const int64_t b = std::min(K, t * chunk), e = std::min(K, b + chunk);
      reduce_block(p, b, e, part[t], parg[t]);
    }
    double acc = init;
    int64_t arg = 0;
    for (int t = 0; t < nt; ++t) {
      if (op == ReduceOp::Sum) {
        acc += part[t];
      } else if (!std::isnan(acc) && (std::isnan(part[t]) || (op == ReduceOp::Max ? part[t] > acc : part[t] < acc))) {
        acc = part[t];
        arg = parg[t];
      }
    }
    o[m] = (T)acc;
    if (idx) idx[m] = arg;
  }
}

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                        const Tensor& index) {
  dispatch_float(x.dtype(), "reduce", [&](auto zero) { reduce_typed<decltype(zero)>(op, x, dims, out, index); });
}

template <class T, bool Scatter>
static void index_walk(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& vals) {
  // Walks every element of `index` (row-major); for gather vals[i] = x[.. index[i] ..],
  // for scatter x[.. index[i] ..] += vals[i]. Serial for scatter (colliding indices).
  Tensor ic = index.contiguous();
  const int64_t* ip = ic.data<int64_t>();
  const Shape& s = index.shape();
  const int64_t n = index.numel();
  T* xp = x.data<T>();
  T* vp = vals.data<T>();
  std::vector<int64_t> pos(s.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t xo = 0, vo = 0;
    for (size_t d = 0; d < s.size(); ++d) {
      const int64_t c = (int64_t)d == dim ? ip[i] : pos[d];
      if ((int64_t)d == dim)
        TG_CHECK(c >= 0 && c < x.size(dim), Scatter ? "scatter_add" : "gather",
                 "index {} out of range for dim {} of size {}", c, dim, x.size(dim));
      xo += c * x.stride(d);
      vo += pos[d] * vals.stride(d);
    }
    if (Scatter) {
      xp[xo] += vp[vo];
    } else {
      vp[vo] = xp[xo];
    }
    for (int64_t d = (int64_t)s.size() - 1; d >= 0; --d) {
      if (++pos[d] < s[d]) break;
      pos[d] = 0;
    }
  }
}

void CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  dispatch_float(x.dtype(), "gather", [&](auto zero) { index_walk<decltype(zero), false>(x, dim, index, out); });
}

void CpuBackend::scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  dispatch_float(out.dtype(), "scatter_add", [&](auto zero) { index_walk<decltype(zero), true>(out, dim, index, src); });
}

// Random kernels: element i of the row-major output uses Philox block (seed, offset+i).
template <class T, class F>
static void fill_counter(const Tensor& out, uint64_t seed, uint64_t offset, F f) {
  Tensor c = out.is_contiguous() ? out : empty(out.shape(), out.dtype());
  T* p = c.data<T>();
  const int64_t n = c.numel();
  parallel_for(n, n >= kParallelGrain, [&](int64_t i) {
    uint32_t w[4];
    philox(seed, offset + (uint64_t)i, w);
    p[i] = (T)f(w, i);
  });
  if (!out.is_contiguous()) out.copy_(c);
}

void CpuBackend::rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  dispatch_float(out.dtype(), "rand", [&](auto zero) {
    fill_counter<decltype(zero)>(out, seed, offset,
                                 [=](uint32_t* w, int64_t) { return lo + (hi - lo) * uniform_from_bits(w[0]); });
  });
}

void CpuBackend::rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) {
  dispatch_float(out.dtype(), "randn", [&](auto zero) {
    fill_counter<decltype(zero)>(out, seed, offset, [=](uint32_t* w, int64_t) {
      const double u1 = uniform_from_bits(w[0]), u2 = uniform_from_bits(w[1]);
      return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    });
  });
}

void CpuBackend::bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset) {
  dispatch_float(out.dtype(), "bernoulli", [&](auto zero) {
    using T = decltype(zero);
    Tensor pc = p.contiguous();
    const T* pp = pc.data<T>();
    fill_counter<T>(out, seed, offset, [=](uint32_t* w, int64_t i) { return uniform_from_bits(w[0]) <= (double)pp[i] ? 1.0 : 0.0; });
  });
}

namespace {

// Never destroyed: tensors with static storage duration may outlive any static object.
CpuBackend& backend() {
  static CpuBackend* b = new CpuBackend();
  return *b;
}

constexpr DeviceType kCPU = DeviceType::CPU;
TG_REGISTER_KERNEL(allocate_stub, kCPU, [](Device, size_t n) { return backend().allocate(n); });
TG_REGISTER_KERNEL(deallocate_stub, kCPU, [](Device, void* p, size_t n) { backend().deallocate(p, n); });
TG_REGISTER_KERNEL(copy_stub, kCPU, [](const Tensor& src, const Tensor& dst) { backend().copy(src, dst); });
TG_REGISTER_KERNEL(fill_stub, kCPU, [](const Tensor& dst, double v) { backend().fill(dst, v); });
TG_REGISTER_KERNEL(unary_stub, kCPU, [](UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  backend().unary(op, x, out, p0, p1);
});
TG_REGISTER_KERNEL(binary_stub, kCPU, [](BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  backend().binary(op, a, b, out);
});
TG_REGISTER_KERNEL(where_stub, kCPU, [](const Tensor& c, const Tensor& a, const Tensor& b, const Tensor& out) {
  backend().where(c, a, b, out);
});
TG_REGISTER_KERNEL(reduce_stub, kCPU,
                   [](ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                      const Tensor& index) { backend().reduce(op, x, dims, out, index); });
TG_REGISTER_KERNEL(matmul_stub, kCPU, [](const Tensor& a, const Tensor& b, const Tensor& out) {
  backend().matmul(a, b, out);
});
TG_REGISTER_KERNEL(gather_stub, kCPU, [](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& out) {
  backend().gather(x, dim, i, out);
});
TG_REGISTER_KERNEL(scatter_add_stub, kCPU, [](const Tensor& out, int64_t dim, const Tensor& i, const Tensor& src) {
  backend().scatter_add(out, dim, i, src);
});
TG_REGISTER_KERNEL(rand_uniform_stub, kCPU, [](const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  backend().rand_uniform(out, seed, offset, lo, hi);
});
TG_REGISTER_KERNEL(rand_normal_stub, kCPU,
                   [](const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) {
                     backend().rand_normal(out, seed, offset, mean, stddev);
                   });
TG_REGISTER_KERNEL(bernoulli_stub, kCPU, [](const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset) {
  backend().bernoulli(p, out, seed, offset);
});

}  // namespace

}  // namespace tg::cpu
