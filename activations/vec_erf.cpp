#include "activations/vec_erf.h"

#include "activations/special.h"
#include "activations/unary.h"
#include "activations/vector_kernels.h"
#ifdef TG_WITH_CUDA
#include "activations/cuda/vector.h"
#endif

namespace tg {

using act::Grads;
using act::Needs;

// s(r) = erf(r/(√2σ)). With erf′(z) = (2/√π)e^(−z²):
//   s′(r)   = (2/√π)e^(−r²/2σ²)·1/(√2σ) = √(2/π)/σ · e^(−r²/2σ²)
//   ∂s/∂σ   = (2/√π)e^(−r²/2σ²)·(−r/(√2σ²)) = −s′(r)·r/σ
// and ∂L/∂σ = Σ_vectors (v·g)·∂s/∂σ. At r = 0 the kernel drops the s′/r term
// (it multiplies a zero vector); ∂s/∂σ is written as 0 when s′ underflows (r → ∞).
Variable vec_erf(const Variable& x, const Variable& sigma, const VectorGrouping& grouping) {
  act::check_float(x.data(), "vec_erf");
  TG_CHECK(sigma.numel() == 1, "vec_erf", "sigma must have one element, got shape {}", shape_str(sigma.shape()));
  const double sg = sigma.item();
  TG_CHECK(sg > 0, "vec_erf", "sigma must be > 0, got {}", sg);
  const VectorPlan plan(x.shape(), grouping, "vec_erf");
  const Tensor xc = x.data().contiguous();
  const Shape sshape = sigma.shape();
  const DType sdtype = sigma.dtype();
#ifdef TG_WITH_CUDA
  if (xc.device().is_cuda()) {
    const Device sdevice = sigma.device();
    return record_activation(
        "vec_erf", act::vec_erf_cuda(xc, grouping, sg), {x, sigma}, {xc},
        [grouping, sg, sshape, sdtype, sdevice](const Tensor& g, const Needs& needs, const Grads& saved) {
          Tensor dsigma;
          Tensor dx = act::vec_erf_backward_cuda(saved[0], g.contiguous(), grouping, sg, dsigma);
          return Grads{needs[0] ? dx : Tensor(), needs[1] ? dsigma.to(sdtype).to(sdevice).reshape(sshape) : Tensor()};
        });
  }
#endif
  Tensor y = empty_like(xc);
  const double inv = 1 / (M_SQRT2 * sg);
  cpu::dispatch_float(xc.dtype(), "vec_erf", [&](auto zero) {
    using T = decltype(zero);
    act::vector_forward(plan, xc.data<T>(), y.data<T>(),
                        [inv](int64_t, double r2, int64_t) { return special::erf(std::sqrt(r2) * inv); });
  });
  return record_activation(
      "vec_erf", y, {x, sigma}, {xc}, [plan, sg, inv, sshape, sdtype](const Tensor& g, const Needs& needs, const Grads& saved) {
        const Tensor gc = g.contiguous(), &xs = saved[0];
        Tensor dx = empty_like(xs);
        const double k = std::sqrt(2 / M_PI) / sg;
        double dsigma = 0;
        cpu::dispatch_float(xs.dtype(), "vec_erf_backward", [&](auto zero) {
          using T = decltype(zero);
          dsigma = act::vector_backward(plan, xs.data<T>(), gc.data<T>(), dx.data<T>(), [&](int64_t, double r2, int64_t) {
            const double r = std::sqrt(r2), ds = k * std::exp(-r2 * inv * inv);
            return act::GateGrad{special::erf(r * inv), r > 0 ? ds / r : 0.0, ds > 0 ? -ds * r / sg : 0.0};
          });
        });
        return Grads{needs[0] ? dx : Tensor(), needs[1] ? full(sshape, dsigma, sdtype) : Tensor()};
      });
}

VecErf::VecErf(VectorGrouping g, double s, DType dtype)
    : grouping(g), sigma(register_parameter("sigma", full({1}, s, dtype))) {
  TG_CHECK(s > 0, "VecErf", "sigma must be > 0, got {}", s);
}

}  // namespace tg
