#include "activations/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "activations/kernels.h"
#include "activations/norm_activation.h"
#include "activations/unary.h"
#include "activations/vector_kernels.h"
#include "autograd/functions.h"
#include "core/ops.h"

namespace tg {

using act::Grads;
using act::Needs;
using namespace ops;

constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&)> act::vector_argmax_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&, bool)> act::vector_sort_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, int64_t, int64_t, int64_t, int64_t)> act::norm_max_pool_index_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const Shape&)> act::take_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const Shape&)> act::put_add_stub;

namespace {

// The checks every group operation shares: a float tensor whose shape fits the grouping.
VectorPlan plan_of(const Variable& x, const VectorGrouping& grouping, const char* op) {
  act::check_float(x.data(), op);
  return VectorPlan(x.shape(), grouping, op);
}

// The CPU kernels of take_stub and put_add_stub (the backend's gather, generic over dims,
// is several times slower on this flat case). out[i] = in[index[i]]:
Tensor take_cpu(const Tensor& in, const Tensor& index, const Shape& shape) {
  Tensor out = empty(shape, in.dtype());
  const int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(in.dtype(), "take", [&](auto zero) {
    using T = decltype(zero);
    const T* ip = in.data<T>();
    T* op = out.data<T>();
    const int64_t n = index.numel();
    cpu::parallel_for(n, n > cpu::kParallelGrain, [&](int64_t i) { op[i] = ip[idx[i]]; });
  });
  return out;
}

// dx = 0, dx[index[i]] += g[i] (in index order):
Tensor put_add_cpu(const Tensor& g, const Tensor& index, const Shape& shape) {
  Tensor dx = zeros(shape, g.dtype());
  const int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(g.dtype(), "take_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* gp = g.data<T>();
    T* dp = dx.data<T>();
    for (int64_t i = 0; i < index.numel(); ++i) dp[idx[i]] += gp[i];
  });
  return dx;
}

TG_REGISTER_KERNEL(act::take_stub, DeviceType::CPU, take_cpu);
TG_REGISTER_KERNEL(act::put_add_stub, DeviceType::CPU, put_add_cpu);

// y = x's elements at `index` (offsets into the contiguous x), shaped `shape`; the
// backward adds g back at those offsets. Saves the index only.
Variable take(const char* op, const Variable& x, const Tensor& xc, const Tensor& index, const Shape& shape) {
  const Tensor flat_index = index.reshape({index.numel()});
  const Tensor y = act::take_stub(xc.device(), op, xc, flat_index, shape);
  const Shape xshape = x.shape();
  return record_activation(op, y, {x}, {flat_index}, [xshape](const Tensor& g, const Needs&, const Grads& saved) {
    const Tensor gc = g.contiguous().reshape({saved[0].numel()});
    return Grads{act::put_add_stub(gc.device(), "take_backward", gc, saved[0], xshape)};
  });
}

}  // namespace

// The CPU kernel of vector_argmax_stub: the offset of each vector's first maximum.
static Tensor vector_argmax_cpu(const Tensor& xc, const VectorGrouping& grouping) {
  const char* op = "maxout";
  const VectorPlan plan(xc.shape(), grouping, op);
  Tensor index = empty({plan.count()}, kInt64);
  int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = xc.data<T>();
    act::for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
      VectorCursor cur(plan, v0);
      for (int64_t v = v0; v < v1; ++v, cur.next()) {
        int64_t best = cur.patch().base;
        act::for_each_element(cur.patch(), [&](int64_t o, int64_t) {
          if (xp[o] > xp[best]) best = o;
        });
        idx[v] = best;
      }
    });
  });
  return index;
}
TG_REGISTER_KERNEL(act::vector_argmax_stub, DeviceType::CPU, vector_argmax_cpu);

// The CPU kernel of vector_sort_stub: for every element, the source offset after a
// stable sort of its vector.
static Tensor vector_sort_cpu(const Tensor& xc, const VectorGrouping& grouping, bool descending) {
  const char* op = "group_sort";
  const VectorPlan plan(xc.shape(), grouping, op);
  Tensor src = empty({xc.numel()}, kInt64);
  int64_t* sp = src.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    const T* xp = xc.data<T>();
    // A stable sort of each vector's (value, offset) pairs by value, in a local buffer:
    // ties keep their element order. Short vectors (d = 16 for blocks(4)) take an
    // insertion sort, which moves an element only past strictly smaller (descending) or
    // larger values.
    using Pair = std::pair<T, int64_t>;
    auto before = [&](const Pair& a, const Pair& b) { return descending ? a.first > b.first : a.first < b.first; };
    act::for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
      std::vector<int64_t> offsets;
      std::vector<Pair> order;
      VectorCursor cur(plan, v0);
      for (int64_t v = v0; v < v1; ++v, cur.next()) {
        offsets.clear();
        order.clear();
        act::for_each_element(cur.patch(), [&](int64_t o, int64_t) {
          offsets.push_back(o);
          order.push_back({xp[o], o});
        });
        if (order.size() > 16) {
          std::stable_sort(order.begin(), order.end(), before);
        } else {
          for (size_t e = 1; e < order.size(); ++e) {
            const Pair item = order[e];
            size_t j = e;
            for (; j > 0 && before(item, order[j - 1]); --j) order[j] = order[j - 1];
            order[j] = item;
          }
        }
        for (size_t e = 0; e < offsets.size(); ++e) sp[offsets[e]] = order[e].second;
      }
    });
  });
  return src;
}
TG_REGISTER_KERNEL(act::vector_sort_stub, DeviceType::CPU, vector_sort_cpu);

// The CPU kernel of norm_max_pool_index_stub: for each output element, the input offset of
// its window's longest channel vector (first in row-major window order on ties).
static Tensor norm_max_pool_index_cpu(const Tensor& xc, int64_t kernel, int64_t stride, int64_t Ho, int64_t Wo) {
  const char* op = "norm_max_pool";
  const VectorPlan plan(xc.shape(), VectorGrouping::channels(), op);
  const int64_t N = xc.size(0), C = xc.size(1), H = xc.size(2), W = xc.size(3);
  std::vector<double> r2(plan.count());
  Tensor index = empty({N, C, Ho, Wo}, kInt64);
  int64_t* idx = index.data<int64_t>();
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    act::vector_dots(plan, xc.data<T>(), xc.data<T>(), r2.data());
  });
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
        for (int64_t c = 0; c < C; ++c) idx[((n * C + c) * Ho + i) * Wo + j] = (n * C + c) * H * W + best;
      }
  return index;
}
TG_REGISTER_KERNEL(act::norm_max_pool_index_stub, DeviceType::CPU, norm_max_pool_index_cpu);

// The CPU kernel of vector_sq_norms_stub: ‖v‖² per vector, in float64.
static Tensor vector_sq_norms_cpu(const Tensor& xc, const VectorGrouping& grouping) {
  const VectorPlan plan(xc.shape(), grouping, "vector_sq_norms");
  Tensor r2 = empty({plan.count()}, kFloat64);
  cpu::dispatch_float(xc.dtype(), "vector_sq_norms", [&](auto zero) {
    using T = decltype(zero);
    act::vector_dots(plan, xc.data<T>(), xc.data<T>(), r2.data<double>());
  });
  return r2;
}
TG_REGISTER_KERNEL(act::vector_sq_norms_stub, DeviceType::CPU, vector_sq_norms_cpu);

// y_v = max_e v_e; ∂y_v/∂v_e = 1 at the first maximum, 0 elsewhere.
Variable maxout(const Variable& x, const VectorGrouping& grouping) {
  const char* op = "maxout";
  plan_of(x, grouping, op);  // checks dtype and shape
  const Tensor xc = x.data().contiguous();
  const Shape oshape = vector_shape(x.shape(), grouping, op);
  return take(op, x, xc, act::vector_argmax_stub(xc.device(), "vector_argmax", xc, grouping), oshape);
}

// y = v permuted by a stable sort; ∂L/∂v_src(e) = g_e (src the saved permutation).
Variable group_sort(const Variable& x, const VectorGrouping& grouping, bool descending) {
  const char* op = "group_sort";
  plan_of(x, grouping, op);  // checks dtype and shape
  const Tensor xc = x.data().contiguous();
  return take(op, x, xc, act::vector_sort_stub(xc.device(), "vector_sort", xc, grouping, descending), x.shape());
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
  const Shape oshape = vector_shape(x.shape(), grouping, op);
  const Tensor r2 = act::vector_sq_norms_stub(xc.device(), "vector_sq_norms", xc, grouping);
  const Tensor y = sqrt(r2).to(xc.dtype()).reshape(oshape);
  return record_activation(op, y, {x}, {xc, y}, [plan, grouping](const Tensor& g, const Needs&, const Grads& saved) {
    const Tensor &xs = saved[0], r = saved[1].reshape({plan.count()});
    const Tensor scale = where(gt(r, zeros_like(r)), div(g.contiguous().reshape({plan.count()}), r), zeros_like(r));
    return Grads{act::vector_scale_stub(xs.device(), "norm_pool_backward", xs, scale, grouping)};
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
  plan_of(x, VectorGrouping::channels(), op);  // checks dtype and shape
  const Tensor xc = x.data().contiguous();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Ho = (H - kernel) / stride + 1, Wo = (W - kernel) / stride + 1;
  return take(op, x, xc,
              act::norm_max_pool_index_stub(xc.device(), "norm_max_pool_index", xc, kernel, stride, Ho, Wo),
              {N, C, Ho, Wo});
}

}  // namespace tg
