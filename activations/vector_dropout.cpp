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

// The CPU kernel of vector_dropout_stub: one Philox draw per vector, then y_v = scale_v·x_v.
static Tensor vector_dropout_cpu(const Tensor& xc, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                                 double keep, double kept_scale, Tensor& scale) {
  const VectorPlan plan(xc.shape(), grouping, "vector_dropout");
  Tensor y = empty_like(xc);
  scale = empty({plan.count()}, xc.dtype());
  cpu::dispatch_float(xc.dtype(), "vector_dropout", [&](auto zero) {
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
  return y;
}
TG_REGISTER_KERNEL(act::vector_dropout_stub, DeviceType::CPU, vector_dropout_cpu);

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
  Tensor scale;
  Tensor y = act::vector_dropout_stub(xc.device(), op, xc, grouping, seed, offset, keep, kept_scale, scale);
  // ∂L/∂v = scale_v·g_v: the same per-vector scaling as the forward.
  return record_activation(op, y, {x}, {scale}, [grouping](const Tensor& g, const Needs&, const Grads& saved) {
    return Grads{act::vector_scale_stub(g.device(), "vector_dropout_backward", g.contiguous(), saved[0], grouping)};
  });
}

VectorDropout::VectorDropout(double p_, VectorGrouping g, Generator* gen) : p(p_), grouping(g), gen_(gen) {
  TG_CHECK(p >= 0 && p <= 1, "VectorDropout", "p must be in [0, 1], got {}", p);
}

}  // namespace tg
