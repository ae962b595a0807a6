#include "core/optim_kernels.h"

#include <cmath>

#include "core/cpu/loops.h"

namespace tg {

static void check_state(const char* op, const Tensor& p, std::initializer_list<const Tensor*> others) {
  TG_CHECK(p.is_contiguous(), op, "parameter must be contiguous");
  for (const Tensor* t : others) {
    TG_CHECK(t->shape() == p.shape(), op, "state shape {} differs from parameter shape {}", shape_str(t->shape()),
             shape_str(p.shape()));
    TG_CHECK(t->dtype() == p.dtype(), op, "state dtype {} differs from parameter dtype {}", dtype_name(t->dtype()),
             dtype_name(p.dtype()));
    TG_CHECK(t->device() == p.device(), op, "state on {} but parameter on {}", t->device().str(), p.device().str());
    TG_CHECK(t->is_contiguous(), op, "optimizer state must be contiguous");
  }
  TG_CHECK(p.device().is_cpu(), op, "fused update on {} is not available in this build", p.device().str());
}

void sgd_update_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                 double dampening, double wd, bool nesterov, bool first_step) {
  check_state("sgd_update_", param, {&grad, &buf});
  cpu::dispatch_float(param.dtype(), "sgd_update_", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* b = buf.data<T>();
    const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      double gi = (double)g[i] + wd * (double)p[i];
      if (momentum != 0) {
        const double bi = first_step ? gi : momentum * (double)b[i] + (1 - dampening) * gi;
        b[i] = (T)bi;
        gi = nesterov ? gi + momentum * bi : bi;
      }
      p[i] = (T)((double)p[i] - lr * gi);
    }
  });
}

void adam_update_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double beta1,
                  double beta2, double eps, double wd, bool decoupled, int64_t step) {
  check_state("adam_update_", param, {&grad, &m, &v});
  TG_CHECK(step >= 1, "adam_update_", "step must be >= 1, got {}", step);
  const double bc1 = 1 - std::pow(beta1, (double)step), bc2 = 1 - std::pow(beta2, (double)step);
  cpu::dispatch_float(param.dtype(), "adam_update_", [&](auto zero) {
    using T = decltype(zero);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      double pi = p[i], gi = g[i];
      if (decoupled) {
        pi *= 1 - lr * wd;
      } else {
        gi += wd * pi;
      }
      const double mi = beta1 * (double)mp[i] + (1 - beta1) * gi;
      const double vi = beta2 * (double)vp[i] + (1 - beta2) * gi * gi;
      mp[i] = (T)mi;
      vp[i] = (T)vi;
      p[i] = (T)(pi - lr * (mi / bc1) / (std::sqrt(vi / bc2) + eps));
    }
  });
}

}  // namespace tg
