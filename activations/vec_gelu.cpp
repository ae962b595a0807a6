#include "activations/vec_gelu.h"

#include <algorithm>

#include "activations/chi_gate_batch.h"
#include "activations/unary.h"
#include "activations/kernels.h"
#include "activations/vector_kernels.h"
#include "core/philox.h"

namespace tg {

using act::Grads;
using act::Needs;

// s(r) = P(a, u) with a = d/2, u = r²/2. Chain rule with ∂P/∂u = u^(a−1)e^(−u)/Γ(a):
//   s′(r) = ∂P/∂u · du/dr = r·u^(a−1)e^(−u)/Γ(a),   so   s′(r)/r = ∂P/∂u (a, r²/2).
// chi_gate_batch gives P and ∂P/∂u together for a batch of vectors: closed forms in
// packets for even d ≤ 64, else chi_gate and special::gammainc_p_and_dx, which work in
// log space (u^(a−1) and Γ(a) overflow long before their ratio does for d in the
// hundreds or thousands).
// At r = 0: s = 0, and for d = 1 ∂P/∂u → ∞ like 1/r but multiplies (v·g)·v = O(r²),
// so the kernel drops that term for a zero vector; as r → ∞, s → 1 and s′/r → 0.

// The CPU kernels (activations/kernels.h); x and g contiguous.
static Tensor vec_gelu_cpu(const Tensor& xc, const VectorGrouping& grouping) {
  const VectorPlan plan(xc.shape(), grouping, "vec_gelu");
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "vec_gelu", [&](auto zero) {
    using T = decltype(zero);
    if (plan.full_blocks(4)) {
      const act::ChiPacketGate<8> gate(16);
      act::blocks4_forward(plan, xc.data<T>(), y.data<T>(), [&](const cpu::Vec<double>* r2, cpu::Vec<double>* s) {
        gate.packets<act::kGroup4 / 4>(r2, s, nullptr);
      });
      return;
    }
    act::vector_forward_batched(plan, xc.data<T>(), y.data<T>(),
                                [](int64_t, int64_t n, int64_t d, const double* r2, double* s) {
                                  act::chi_gate_batch(d, n, r2, s, nullptr);
                                });
  });
  return y;
}

static Tensor vec_gelu_backward_cpu(const Tensor& xs, const Tensor& gc, const VectorGrouping& grouping) {
  const VectorPlan plan(xs.shape(), grouping, "vec_gelu_backward");
  Tensor dx = empty_like(xs);
  cpu::dispatch_float(xs.dtype(), "vec_gelu_backward", [&](auto zero) {
    using T = decltype(zero);
    if (plan.full_blocks(4)) {
      const act::ChiPacketGate<8> gate(16);
      act::blocks4_backward(plan, xs.data<T>(), gc.data<T>(), dx.data<T>(),
                            [&](const cpu::Vec<double>* r2, cpu::Vec<double>* s, cpu::Vec<double>* coef) {
                              gate.packets<act::kGroup4 / 4>(r2, s, coef);
                            });
      return;
    }
    act::vector_backward_batched(plan, xs.data<T>(), gc.data<T>(), dx.data<T>(),
                                 [](int64_t, int64_t n, int64_t d, const double* r2, act::GateBatch& q) {
                                   act::chi_gate_batch(d, n, r2, q.s, q.coef);
                                   std::fill_n(q.dparam, n, 0.0);
                                 });
  });
  return dx;
}

static Tensor probabilistic_vec_gelu_cpu(const Tensor& xc, const VectorGrouping& grouping, uint64_t seed,
                                         uint64_t offset, Tensor& p) {
  const VectorPlan plan(xc.shape(), grouping, "probabilistic_vec_gelu");
  Tensor y = empty_like(xc);
  p = empty({plan.count()}, xc.dtype());
  cpu::dispatch_float(xc.dtype(), "probabilistic_vec_gelu", [&](auto zero) {
    using T = decltype(zero);
    T* pp = p.data<T>();
    act::vector_forward_batched(
        plan, xc.data<T>(), y.data<T>(), [&](int64_t v, int64_t n, int64_t d, const double* r2, double* m) {
          double pv[act::kBatch];
          act::chi_gate_batch(d, n, r2, pv, nullptr);
          for (int64_t i = 0; i < n; ++i) pp[v + i] = (T)pv[i];
          alignas(32) uint32_t bits[8];
          for (int64_t i = 0; i < n; i += 8) {  // eight vectors' draws at once
            _mm256_store_si256(reinterpret_cast<__m256i*>(bits), philox4x32_w0_x8(seed, offset + (uint64_t)(v + i)));
            for (int64_t j = 0; j < std::min<int64_t>(8, n - i); ++j)
              m[i + j] = philox_uniform(bits[j]) <= pv[i + j] ? 1.0 : 0.0;
          }
        });
  });
  return y;
}

static Tensor vector_scale_cpu(const Tensor& gc, const Tensor& ps, const VectorGrouping& grouping) {
  const VectorPlan plan(gc.shape(), grouping, "vector_scale");
  Tensor dx = empty_like(gc);
  cpu::dispatch_float(ps.dtype(), "vector_scale", [&](auto zero) {
    using T = decltype(zero);
    act::vector_scale(plan, gc.data<T>(), ps.data<T>(), dx.data<T>());
  });
  return dx;
}

constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&)> act::vec_gelu_forward_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const VectorGrouping&)> act::vec_gelu_backward_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const VectorGrouping&, uint64_t, uint64_t, Tensor&)>
    act::probabilistic_vec_gelu_stub;
constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, const VectorGrouping&)> act::vector_scale_stub;
TG_REGISTER_KERNEL(act::vec_gelu_forward_stub, DeviceType::CPU, vec_gelu_cpu);
TG_REGISTER_KERNEL(act::vec_gelu_backward_stub, DeviceType::CPU, vec_gelu_backward_cpu);
TG_REGISTER_KERNEL(act::probabilistic_vec_gelu_stub, DeviceType::CPU, probabilistic_vec_gelu_cpu);
TG_REGISTER_KERNEL(act::vector_scale_stub, DeviceType::CPU, vector_scale_cpu);

Variable vec_gelu(const Variable& x, const VectorGrouping& grouping) {
  act::check_float(x.data(), "vec_gelu");
  const VectorPlan plan(x.shape(), grouping, "vec_gelu");
  const Tensor xc = x.data().contiguous();
  return record_activation("vec_gelu", act::vec_gelu_forward_stub(xc.device(), "vec_gelu", xc, grouping), {x}, {xc},
                           [grouping](const Tensor& g, const Needs&, const Grads& saved) {
                             return Grads{act::vec_gelu_backward_stub(saved[0].device(), "vec_gelu_backward",
                                                                      saved[0], g.contiguous(), grouping)};
                           });
}

// Forward: p = P(d/2, r²/2), m = [u ≤ p] with u ~ U(0, 1] from Philox, y = m·v.
// Backward: dx = p·g, from the saved p alone (no input kept). A CUDA tensor draws the
// same u per vector (core/philox.h on the device), so both backends give the same masks.
Variable probabilistic_vec_gelu(const Variable& x, const VectorGrouping& grouping, bool training, Generator* gen) {
  if (!training) return vec_gelu(x, grouping);
  act::check_float(x.data(), "probabilistic_vec_gelu");
  const VectorPlan plan(x.shape(), grouping, "probabilistic_vec_gelu");
  const Tensor xc = x.data().contiguous();
  Generator& gref = gen ? *gen : default_generator();
  const uint64_t seed = gref.seed(), offset = gref.advance((uint64_t)plan.count());
  Tensor p;
  Tensor y = act::probabilistic_vec_gelu_stub(xc.device(), "probabilistic_vec_gelu", xc, grouping, seed, offset, p);
  return record_activation("probabilistic_vec_gelu", y, {x}, {p},
                           [grouping](const Tensor& g, const Needs&, const Grads& saved) {
                             const Tensor gc = g.contiguous();
                             return Grads{act::vector_scale_stub(gc.device(), "probabilistic_vec_gelu_backward", gc,
                                                                 saved[0], grouping)};
                           });
}

}  // namespace tg
