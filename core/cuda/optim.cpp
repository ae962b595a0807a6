// CUDA kernels of the fused optimizer updates, host side (core/optim_kernels.h): the
// update is queued on the device's stream.
#include "core/optim_kernels.h"

#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/optim_launch.h"

namespace tg::cuda {

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& buf, const SgdStep& s) {
  const char* op = "sgd_update_";
  TG_CUDA_CHECK(launch_sgd_update(stream_of(param, op), param.dtype(), param.raw_data(), grad.raw_data(),
                                  buf.raw_data(), param.numel(), s),
                op);
}

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamStep& s) {
  const char* op = "adam_update_";
  TG_CUDA_CHECK(launch_adam_update(stream_of(param, op), param.dtype(), param.raw_data(), grad.raw_data(),
                                   m.raw_data(), v.raw_data(), param.numel(), s),
                op);
}

TG_REGISTER_KERNEL(sgd_update_stub, DeviceType::CUDA, sgd_update);
TG_REGISTER_KERNEL(adam_update_stub, DeviceType::CUDA, adam_update);

}  // namespace tg::cuda
