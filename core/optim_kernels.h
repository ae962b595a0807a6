#pragma once
// Fused optimizer updates: one pass over each parameter reading its gradient and
// state and writing the new values in place (no temporaries). Front functions check
// shapes, dtypes and devices and dispatch per backend like every core op; the
// per-element math, shared by the CPU and CUDA kernels, is in core/optim_math.h.
#include "core/dispatch.h"
#include "core/optim_math.h"
#include "core/tensor.h"

namespace tg {

// SGD with momentum/Nesterov/weight decay (torch.optim.SGD semantics):
//   g ← grad + wd·p;  buf ← momentum·buf + (1 − dampening)·g (buf ← g on the first step);
//   step direction d = nesterov ? g + momentum·buf : buf (or g without momentum);  p ← p − lr·d.
void sgd_update_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, double lr, double momentum,
                 double dampening, double weight_decay, bool nesterov, bool first_step);

// Adam/AdamW (torch.optim semantics). decoupled (AdamW): p ← p·(1 − lr·wd), else g ← g + wd·p.
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);  p ← p − lr·m̂/(√v̂ + ε).
void adam_update_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq, double lr,
                  double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step);

// The kernels: operands arrive contiguous, with one shape, one float dtype and one
// device, already checked. Registered by core/cpu/optim_kernels.cpp and core/cuda/optim.cpp.
extern DispatchStub<void (*)(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, const SgdStep&)>
    sgd_update_stub;
extern DispatchStub<void (*)(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                             const Tensor& exp_avg_sq, const AdamStep&)>
    adam_update_stub;

}  // namespace tg
