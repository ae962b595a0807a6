#include "activations/vector_dropout.h"

#include "activations/kernels.h"
#include "activations/unary.h"
#include "activations/vector_kernels.h"

namespace tg {

using act::Grads;
using act::Needs;
using namespace ops;

constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&, uint64_t, uint64_t, double, double, Tensor&)>
    act::vector_dropout_stub;

Variable vector_dropout(const Variable& x, double p, const VectorGrouping& grouping, bool training, Generator* gen) {
  const char* op = "vector_dropout";
  TG_CHECK(p >= 0 && p <= 1, op, "p must be in [0, 1], got {}", p);
  act::check_float(x.data(), op);
  const VectorPlan plan(x.shape(), grouping, op);
  if (!training || p == 0) return x;
  Generator& gref = gen ? *gen : default_generator();
  const uint64_t seed = gref.seed(), offset = gref.advance((uint64_t)plan.count());
  const Tensor xc = x.data().contiguous();
  const double keep = 1 - p, kept_scale = p < 1 ? 1 / keep : 0.0;
  if (!xc.device().is_cpu()) {
    Tensor scale;
    Tensor y =
        act::vector_dropout_stub(xc.device(), "vector_dropout", xc, grouping, seed, offset, keep, kept_scale, scale);
    return record_activation(op, y, {x}, {scale}, [grouping](const Tensor& g, const Needs&, const Grads& saved) {
      return Grads{act::vector_scale_stub(g.device(), "vector_scale", g.contiguous(), saved[0], grouping)};
    });
  }
  Tensor y = empty_like(xc), scale = empty({plan.count()}, xc.dtype());
  cpu::dispatch_float(xc.dtype(), op, [&](auto zero) {
    using T = decltype(zero);
    T* sp = scale.data<T>();
    act::for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
      for (int64_t v = v0; v < v1; ++v) {
        uint32_t w[4];
        philox(seed, offset + (uint64_t)v, w);
        sp[v] = uniform_from_bits(w[0]) <= keep ? (T)kept_scale : T(0);
      }
    });
    act::vector_scale(plan, xc.data<T>(), sp, y.data<T>());
  });
  return record_activation(op, y, {x}, {scale}, [plan](const Tensor& g, const Needs&, const Grads& saved) {
    const Tensor gc = g.contiguous(), &ss = saved[0];
    Tensor dx = empty_like(gc);
    cpu::dispatch_float(ss.dtype(), "vector_dropout_backward", [&](auto zero) {
      using T = decltype(zero);
      act::vector_scale(plan, gc.data<T>(), ss.data<T>(), dx.data<T>());
    });
    return Grads{dx};
  });
}

VectorDropout::VectorDropout(double p_, VectorGrouping g, Generator* gen) : p(p_), grouping(g), gen_(gen) {
  TG_CHECK(p >= 0 && p <= 1, "VectorDropout", "p must be in [0, 1], got {}", p);
}

}  // namespace tg
