#include "activations/stochastic_gelu.h"

#include "activations/basic.h"
#include "activations/kernels.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "activations/unary.h"

namespace tg {

using act::Grads;
using act::Needs;

// y_i = op.sample(x_i, i) over contiguous x, where i is the element's row-major index.
static Tensor sample(const act::StochasticGelu& op, const Tensor& xc) {
  Tensor y = empty_like(xc);
  const int64_t n = xc.numel();
  cpu::dispatch_float(xc.dtype(), "stochastic_gelu", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
    cpu::parallel_for(n, n > cpu::kParallelGrain, [&](int64_t i) { py[i] = op.sample(px[i], (uint64_t)i); });
  });
  return y;
}

constinit DispatchStub<Tensor (*)(const act::StochasticGelu&, const Tensor&)> act::stochastic_gelu_stub;
TG_REGISTER_KERNEL(act::stochastic_gelu_stub, DeviceType::CPU, sample);

Variable stochastic_gelu(const Variable& x, bool training, Generator* gen) {
  if (!training) return gelu(x);
  act::check_float(x.data(), "stochastic_gelu");
  const Tensor xc = x.data().contiguous();
  Generator& g = gen ? *gen : default_generator();
  const act::StochasticGelu op{g.seed(), g.advance((uint64_t)xc.numel())};
  return record_activation("stochastic_gelu", act::stochastic_gelu_stub(xc.device(), "stochastic_gelu", op, xc), {x}, {xc},
                           [op](const Tensor& gy, const Needs&, const Grads& saved) {
                             return Grads{act::unary_backward(op, gy, saved[0], "stochastic_gelu_backward")};
                           });
}

}  // namespace tg
