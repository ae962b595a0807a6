#include "activations/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "activations/norm_activation.h"
#include "activations/unary.h"
#include "activations/vector_kernels.h"
#include "autograd/functions.h"

namespace tg {

using act::Grads;
using act::Needs;

namespace {

// The checks every group operation shares: a float CPU tensor whose shape fits the grouping.
VectorPlan plan_of(const Variable& x, const VectorGrouping& grouping, const char* op) {
  act::check_float(x.data(), op);
  TG_CHECK(x.device().is_cpu(), op, "CUDA tensors are not supported by group operations yet, got a tensor on {}",
           x.device().str());
  return VectorPlan(x.shape(), grouping, op);
}

// dx = 0 with dx[index[i]] += g[i] for every i (a gather's backward).
Tensor scatter_add(const Tensor& g, const Tensor& index, const Shape& shape) {
  Tensor dx = zeros(shape, g.dtype());
  const Tensor gc = g.contiguous();
  const int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(g.dtype(), "scatter_add", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = gc.data<T>();
    T* dp = dx.data<T>();
    for (int64_t i = 0; i < index.numel(); ++i) dp[idx[i]] += gp[i];
  });
  return dx;
}

}  // namespace

// y_v = max_e v_e; ∂y_v/∂v_e = 1 at the first maximum, 0 elsewhere.
Variable maxout(const Variable& x, const VectorGrouping& grouping) {
  const char* op = "maxout";
  const VectorPlan plan = plan_of(x, grouping, op);
  const Tensor xc = x.data().contiguous();
  const Shape oshape = vector_shape(x.shape(), grouping, op);
  Tensor y = empty(oshape, xc.dtype()), index = empty({plan.count()}, kInt64);
  int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = xc.data<T>();
    T* yp = y.data<T>();
    act::for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
      VectorCursor cur(plan, v0);
      for (int64_t v = v0; v < v1; ++v, cur.next()) {
        int64_t best = cur.patch().base;
        act::for_each_element(cur.patch(), [&](int64_t o, int64_t) {
          if (xp[o] > xp[best]) best = o;
        });
        idx[v] = best;
        yp[v] = xp[best];
      }
    });
  });
  const Shape xshape = x.shape();
  return record_activation(op, y, {x}, {index}, [xshape](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{scatter_add(g, saved[0], xshape)};
  });
}

// y = v permuted by a stable sort; ∂L/∂v_src(e) = g_e (src the saved permutation).
Variable group_sort(const Variable& x, const VectorGrouping& grouping, bool descending) {
  const char* op = "group_sort";
  const VectorPlan plan = plan_of(x, grouping, op);
  const Tensor xc = x.data().contiguous();
  Tensor y = empty_like(xc), src = empty({xc.numel()}, kInt64);
  int64_t* sp = src.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = xc.data<T>();
    T* yp = y.data<T>();
    act::for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
      std::vector<int64_t> offsets, order;
      VectorCursor cur(plan, v0);
      for (int64_t v = v0; v < v1; ++v, cur.next()) {
        offsets.clear();
        act::for_each_element(cur.patch(), [&](int64_t o, int64_t) { offsets.push_back(o); });
        order = offsets;
        if (descending)
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return xp[a] > xp[b]; });
        else
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return xp[a] < xp[b]; });
        for (size_t e = 0; e < offsets.size(); ++e) {
          yp[offsets[e]] = xp[order[e]];
          sp[offsets[e]] = order[e];
        }
      }
    });
  });
  const Shape xshape = x.shape();
  return record_activation(op, y, {x}, {src}, [xshape](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{scatter_add(g, saved[0], xshape)};
  });
}

Variable group_sort_features(const Variable& x, int64_t k) {
  const char* op = "group_sort";
  TG_CHECK(x.dim() >= 2, op, "GroupSort over features needs an N,C,... input, got shape {}", shape_str(x.shape()));
  TG_CHECK(k >= 1 && x.size(1) % k == 0, op, "group size {} must divide the {} features of shape {}", k, x.size(1),
           shape_str(x.shape()));
  Shape grouped = x.shape();
  grouped[0] = x.size(0) * x.size(1) / k;
  grouped[1] = k;
  // [N, C, rest] → [N·C/k, k, rest]: a group of k channels at one position is a channels vector.
  return reshape(group_sort(reshape(x, grouped), VectorGrouping::channels()), x.shape());
}

// r_v = ‖v‖; ∂r/∂v = v/r (0 at v = 0), so dx_v = (g_v/r_v)·v.
Variable norm_pool(const Variable& x, const VectorGrouping& grouping) {
  const char* op = "norm_pool";
  const VectorPlan plan = plan_of(x, grouping, op);
  const Tensor xc = x.data().contiguous();
  std::vector<double> r(plan.count());
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    act::vector_dots(plan, xc.data<T>(), xc.data<T>(), r.data());
  });
  for (double& v : r) v = std::sqrt(v);
  const Tensor y = from_vector(r, vector_shape(x.shape(), grouping, op)).to(xc.dtype());
  return record_activation(op, y, {x}, {xc, y}, [plan](const Tensor& g, const Needs&, const Grads& saved) {
    const Tensor gc = g.contiguous(), &xs = saved[0], &rs = saved[1];
    Tensor dx = empty_like(xs), scale = empty({plan.count()}, xs.dtype());
    cpu::dispatch_float(xs.dtype(), "norm_pool_backward", [&](auto zero) {
      using T = decltype(zero);
      const T *gp = gc.data<T>(), *rp = rs.data<T>();
      T* sp = scale.data<T>();
      for (int64_t v = 0; v < plan.count(); ++v) sp[v] = rp[v] > 0 ? gp[v] / rp[v] : T(0);
      act::vector_scale(plan, xs.data<T>(), sp, dx.data<T>());
    });
    return Grads{dx};
  });
}

// For each output pixel, the input pixel (of its window) whose channel vector is longest;
// y[n, :, i, j] = x[n, :, that pixel], and the backward adds g there.
Variable norm_max_pool(const Variable& x, int64_t kernel, int64_t stride) {
  const char* op = "norm_max_pool";
  if (stride == 0) stride = kernel;
  TG_CHECK(x.dim() == 4, op, "needs an N,C,H,W input, got shape {}", shape_str(x.shape()));
  TG_CHECK(kernel >= 1 && stride >= 1, op, "kernel and stride must be >= 1, got kernel {} stride {}", kernel, stride);
  TG_CHECK(x.size(2) >= kernel && x.size(3) >= kernel, op, "kernel {} is larger than the input's H×W in shape {}",
           kernel, shape_str(x.shape()));
  const VectorPlan plan = plan_of(x, VectorGrouping::channels(), op);
  const Tensor xc = x.data().contiguous();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Ho = (H - kernel) / stride + 1, Wo = (W - kernel) / stride + 1;
  std::vector<double> r2(plan.count());
  Tensor y = empty({N, C, Ho, Wo}, xc.dtype()), index = empty({N, C, Ho, Wo}, kInt64);
  int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = xc.data<T>();
    T* yp = y.data<T>();
    act::vector_dots(plan, xp, xp, r2.data());
#pragma omp parallel for collapse(2) if (N * Ho * Wo * C > cpu::kParallelGrain)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < Ho; ++i)
        for (int64_t j = 0; j < Wo; ++j) {
          int64_t best = (i * stride) * W + j * stride;
          for (int64_t a = 0; a < kernel; ++a)
            for (int64_t b = 0; b < kernel; ++b) {
              const int64_t p = (i * stride + a) * W + j * stride + b;
              if (r2[n * H * W + p] > r2[n * H * W + best]) best = p;
            }
          for (int64_t c = 0; c < C; ++c) {
            const int64_t o = ((n * C + c) * Ho + i) * Wo + j, from = (n * C + c) * H * W + best;
            yp[o] = xp[from];
            idx[o] = from;
          }
        }
  });
  const Shape xshape = x.shape();
  return record_activation(op, y, {x}, {index}, [xshape](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{scatter_add(g, saved[0], xshape)};
  });
}

}  // namespace tg
