#pragma once
// CUDA kernels of the fused optimizer updates, host side (front functions in
// core/optim_kernels.h). Operands arrive contiguous, with one shape, one float dtype
// and one CUDA device, already checked; the update is queued on the device's stream.
#include "core/optim_math.h"
#include "core/tensor.h"

namespace tg::cuda {

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, const SgdStep& s);
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const AdamStep& s);

}  // namespace tg::cuda
