#pragma once
// CPU kernels of the fused optimizer updates (front functions in core/optim_kernels.h,
// per-element math in core/optim_math.h). Operands arrive contiguous, with one shape,
// one float dtype and the CPU device, already checked.
#include "core/optim_math.h"
#include "core/tensor.h"

namespace tg::cpu {

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, const SgdStep& s);
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const AdamStep& s);

}  // namespace tg::cpu
