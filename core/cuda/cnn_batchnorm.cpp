// Batch normalization on CUDA devices: tensors to pointers for the kernels of
// cnn_batchnorm.cu (which says why these are not cuDNN's).
#include "core/cnn_kernels.h"
#include "core/cuda/check.h"
#include "core/cuda/cnn_kernels.h"
#include "core/cuda/cudnn.h"

namespace tg::cuda {
namespace {

ChannelDims channel_dims(const Tensor& x) {
  const int64_t N = x.size(0), C = x.size(1);
  return {N, C, N * C > 0 ? x.numel() / (N * C) : 0};
}

void* ptr_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

}  // namespace

void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  CudaBackend& b = backend_of(x);
  b.activate("batch_norm");
  TG_CUDA_CHECK(launch_batch_norm_stats(b.stream(), x.dtype(), x.raw_data(), mean.raw_data(), var.raw_data(),
                                        channel_dims(x)),
                "batch_norm");
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                      const Tensor& bias, const Tensor& y) {
  CudaBackend& b = backend_of(x);
  b.activate("batch_norm");
  TG_CUDA_CHECK(launch_batch_norm_apply(b.stream(), x.dtype(), x.raw_data(), mean.raw_data(), invstd.raw_data(),
                                        ptr_or_null(weight), ptr_or_null(bias), y.raw_data(), channel_dims(x)),
                "batch_norm");
}

void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                         const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  if (!gx.defined() && !gw.defined() && !gb.defined()) return;
  CudaBackend& b = backend_of(x);
  b.activate("batch_norm_backward");
  TG_CUDA_CHECK(launch_batch_norm_backward(b.stream(), x.dtype(), gy.raw_data(), x.raw_data(), mean.raw_data(),
                                           invstd.raw_data(), ptr_or_null(weight), batch_stats, ptr_or_null(gx),
                                           ptr_or_null(gw), ptr_or_null(gb), channel_dims(x)),
                "batch_norm_backward");
}

TG_REGISTER_KERNEL(batch_norm_stats_stub, DeviceType::CUDA, batch_norm_stats);
TG_REGISTER_KERNEL(batch_norm_apply_stub, DeviceType::CUDA, batch_norm_apply);
TG_REGISTER_KERNEL(batch_norm_backward_stub, DeviceType::CUDA, batch_norm_backward);

}  // namespace tg::cuda
