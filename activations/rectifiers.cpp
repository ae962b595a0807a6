#include "activations/rectifiers.h"

#include <omp.h>

#include "activations/kernels.h"
#include "activations/pointwise_rectifiers.h"
#include "activations/unary.h"

namespace tg {

using act::From;
using act::Grads;
using act::Needs;

Variable leaky_relu(const Variable& x, double s) {
  return act::unary_activation("leaky_relu", x, s >= 0 ? From::Output : From::Input, act::LeakyRelu{s});
}

// PReLU over contiguous x and slopes w: rows of `inner` elements share a slope (row r
// has channel r % nw). On the CPU the backward is one pass over x and g that writes dx
// and accumulates per-thread channel sums.
static Tensor prelu_forward(const Tensor& xc, const Tensor& w, int64_t inner) {
  Tensor y = empty_like(xc);
  cpu::dispatch_float(xc.dtype(), "prelu", [&](auto zero) {
    using T = decltype(zero);
    const T *px = xc.data<T>(), *pw = w.data<T>();
    T* py = y.data<T>();
    const int64_t n = xc.numel(), nw = w.numel(), rows = inner == 0 ? 0 : n / inner;  // inner = 0: empty x
    cpu::parallel_for(rows, n > cpu::kParallelGrain, [&](int64_t r) {
      const T a = pw[r % nw];
      for (int64_t i = r * inner; i < (r + 1) * inner; ++i) py[i] = act::Prelu::f(px[i], a);
    });
  });
  return y;
}

static Grads prelu_backward(const Tensor& g, const Tensor& xs, const Tensor& ws, int64_t inner, const Needs& needs) {
  const Tensor gc = g.contiguous();
  Tensor dx = needs[0] ? empty_like(xs) : Tensor(), dw = needs[1] ? zeros_like(ws) : Tensor();
  cpu::dispatch_float(xs.dtype(), "prelu_backward", [&](auto zero) {
    using T = decltype(zero);
    const T *px = xs.data<T>(), *pg = gc.data<T>(), *pw = ws.data<T>();
    T* pdx = needs[0] ? dx.data<T>() : nullptr;
    T* pdw = needs[1] ? dw.data<T>() : nullptr;
    const int64_t n = xs.numel(), nw = ws.numel(), rows = inner == 0 ? 0 : n / inner;
#pragma omp parallel if (n > cpu::kParallelGrain)
    {
      const DenormalScope denormals;
      std::vector<double> acc(nw, 0.0);
#pragma omp for
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t c = r % nw;
        const T a = pw[c];
        double sum = 0;
        for (int64_t i = r * inner; i < (r + 1) * inner; ++i) {
          if (pdx) pdx[i] = act::Prelu::dx(pg[i], px[i], a);
          sum += act::Prelu::da(pg[i], px[i]);
        }
        acc[c] += sum;
      }
      if (pdw) {
#pragma omp critical
        for (int64_t c = 0; c < nw; ++c) pdw[c] += (T)acc[c];
      }
    }
  });
  return Grads{dx, dw};
}

constinit DispatchStub<Tensor (*)(const Tensor&, const Tensor&, int64_t)> act::prelu_forward_stub;
constinit DispatchStub<Grads (*)(const Tensor&, const Tensor&, const Tensor&, int64_t, const Needs&)>
    act::prelu_backward_stub;
TG_REGISTER_KERNEL(act::prelu_forward_stub, DeviceType::CPU, prelu_forward);
TG_REGISTER_KERNEL(act::prelu_backward_stub, DeviceType::CPU, prelu_backward);

Variable prelu(const Variable& x, const Variable& weight) {
  act::check_float(x.data(), "prelu");
  const int64_t nw = weight.numel();
  TG_CHECK(weight.dtype() == x.dtype(), "prelu", "weight dtype {} does not match input dtype {}",
           dtype_name(weight.dtype()), dtype_name(x.dtype()));
  TG_CHECK(weight.data().device() == x.data().device(), "prelu", "weight on {} but input on {}",
           weight.data().device().str(), x.data().device().str());
  TG_CHECK(nw == 1 || (x.dim() >= 2 && x.size(1) == nw), "prelu",
           "weight of shape {} needs 1 element or one per channel (dim 1) of the input of shape {}",
           shape_str(weight.shape()), shape_str(x.shape()));
  const Tensor xc = x.data().contiguous(), w = weight.data().contiguous();
  const int64_t inner = nw == 1 ? 1 : shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  return record_activation("prelu", act::prelu_forward_stub(xc.device(), "prelu", xc, w, inner), {x, weight}, {xc, w},
                           [inner](const Tensor& g, const Needs& needs, const Grads& saved) {
                             return act::prelu_backward_stub(saved[0].device(), "prelu_backward", g, saved[0], saved[1], inner, needs);
                           });
}

Variable elu(const Variable& x, double alpha) {
  if (alpha > 0) return act::unary_activation("elu", x, From::Output, act::EluFromOutput{{alpha}});
  return act::unary_activation("elu", x, From::Input, act::Elu{alpha});
}

Variable selu(const Variable& x) { return act::unary_activation("selu", x, From::Output, act::Selu{}); }

Variable celu(const Variable& x, double alpha) {
  TG_CHECK(alpha != 0, "celu", "alpha must not be 0");
  if (alpha > 0) return act::unary_activation("celu", x, From::Output, act::CeluFromOutput{{alpha}});
  return act::unary_activation("celu", x, From::Input, act::Celu{alpha});
}

PReLU::PReLU(int64_t num_parameters, double init, DType dtype)
    : weight(register_parameter("weight", full({num_parameters}, init, dtype))) {
  TG_CHECK(num_parameters >= 1, "PReLU", "num_parameters must be at least 1, got {}", num_parameters);
}

CELU::CELU(double a) : alpha(a) { TG_CHECK(alpha != 0, "CELU", "alpha must not be 0"); }

}  // namespace tg
