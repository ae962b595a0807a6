// Front functions of the fused optimizer updates: argument checks, then the kernel of
// the parameter's device (the per-element math is in core/optim_math.h).
#include "core/optim_kernels.h"

#include <cmath>
#include <initializer_list>

#include "core/dispatch.h"

namespace tg {

constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const SgdStep&)> sgd_update_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AdamStep&)>
    adam_update_stub;

static void check_state(const char* op, const Tensor& p, std::initializer_list<const Tensor*> others) {
  TG_CHECK(p.defined(), op, "parameter is undefined");
  TG_CHECK(is_floating(p.dtype()), op, "expected a float32 or float64 parameter, got {}", dtype_name(p.dtype()));
  TG_CHECK(p.is_contiguous(), op, "parameter must be contiguous");
  for (const Tensor* t : others) {
    TG_CHECK(t->defined(), op, "gradient or state of the parameter of shape {} is undefined", shape_str(p.shape()));
    TG_CHECK(t->shape() == p.shape(), op, "gradient or state shape {} differs from parameter shape {}",
             shape_str(t->shape()), shape_str(p.shape()));
    TG_CHECK(t->dtype() == p.dtype(), op, "gradient or state dtype {} differs from parameter dtype {}",
             dtype_name(t->dtype()), dtype_name(p.dtype()));
    TG_CHECK(t->device() == p.device(), op, "gradient or state on {} but parameter on {}", t->device().str(),
             p.device().str());
    TG_CHECK(t->is_contiguous(), op, "gradient and optimizer state must be contiguous");
  }
}

void sgd_update_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                 double dampening, double wd, bool nesterov, bool first_step) {
  check_state("sgd_update_", param, {&grad, &buf});
  const SgdStep s{lr, momentum, dampening, wd, nesterov, first_step};
  sgd_update_stub(param.device(), "sgd_update_", param, grad, buf, s);
}

void adam_update_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double beta1,
                  double beta2, double eps, double wd, bool decoupled, int64_t step) {
  check_state("adam_update_", param, {&grad, &m, &v});
  TG_CHECK(step >= 1, "adam_update_", "step must be >= 1, got {}", step);
  const AdamStep s{lr, beta1, beta2, eps, wd, 1 - std::pow(beta1, (double)step), 1 - std::pow(beta2, (double)step),
                   decoupled};
  adam_update_stub(param.device(), "adam_update_", param, grad, m, v, s);
}

}  // namespace tg
