#include "activations/stochastic_gelu.h"

#include "activations/basic.h"
#include "activations/special.h"
#include "activations/unary.h"

namespace tg {

using act::Grads;
using act::Needs;

// Forward: y = x·m, m = [u ≤ Φ(x)], u ~ U(0, 1] from Philox, so P(m = 1) = Φ(x).
// Backward (straight-through on the expectation E[y] = x·Φ(x), ignoring Φ′):
// dx = g·Φ(x), the GELU paper's surrogate; it needs the input only, not the mask.
Variable stochastic_gelu(const Variable& x, bool training, Generator* gen) {
  if (!training) return gelu(x);
  act::check_cpu_float(x.data(), "stochastic_gelu");
  const Tensor xc = x.data().contiguous();
  Generator& g = gen ? *gen : default_generator();
  const int64_t n = xc.numel();
  const uint64_t seed = g.seed(), offset = g.advance((uint64_t)n);
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "stochastic_gelu", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for if (n > cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      uint32_t w[4];
      philox(seed, offset + (uint64_t)i, w);
      py[i] = uniform_from_bits(w[0]) <= special::Phi((double)px[i]) ? px[i] : T(0);
    }
  });
  return record_activation("stochastic_gelu", y, {x}, {xc}, [](const Tensor& gy, const Needs&, const Grads& saved) {
    return Grads{act::map_binary(gy, saved[0], "stochastic_gelu_backward",
                                 [](auto gv, auto v) { return gv * special::Phi((double)v); })};
  });
}

}  // namespace tg
