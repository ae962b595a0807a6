// Pooling on CUDA devices: average pooling through cuDNN, whose
// CUDNN_POOLING_AVERAGE_COUNT_{INCLUDE,EXCLUDE}_PADDING are our count_include_pad
// true/false (the windows never pass the padded border, so "include" divides by
// KH·KW as the CPU does); max and adaptive pooling through our kernels (cnn_pool.cu
// says why cuDNN does not fit them).
#include <cmath>

#include "core/cnn_kernels.h"
#include "core/cuda/check.h"
#include "core/cuda/cnn_kernels.h"
#include "core/cuda/cudnn.h"

namespace tg::cuda {
namespace {

PoolDims pool_dims(const PoolGeometry& g) {
  return {g.N * g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw};
}

// Sizes of an adaptive pooling from its input and output planes (no window fields).
PoolDims adaptive_dims(const Tensor& in, const Tensor& out) {
  return {in.size(0) * in.size(1), in.size(2), in.size(3), out.size(2), out.size(3), 0, 0, 0, 0, 0, 0};
}

cudnnPoolingMode_t avg_mode(bool count_include_pad) {
  return count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

}  // namespace

void max_pool2d_forward(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolGeometry& g) {
  CudaBackend& b = backend_of(x);
  b.activate("max_pool2d");
  TG_CUDA_CHECK(launch_max_pool2d(b.stream(), x.dtype(), x.raw_data(), y.raw_data(), indices.data<int64_t>(),
                                  pool_dims(g)),
                "max_pool2d");
}

// gx[n, c, indices] += gy: the backend's scatter_add over the flattened planes, which
// checks each index on the device and reports a bad one at the next synchronization.
void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx) {
  if (gy.numel() == 0) return;
  const int64_t planes = gx.size(0) * gx.size(1);
  backend_of(gx).scatter_add(gx.view({planes, gx.size(2) * gx.size(3)}), 1,
                             indices.view({planes, indices.size(2) * indices.size(3)}),
                             gy.view({planes, gy.size(2) * gy.size(3)}));
}

void avg_pool2d_forward(const Tensor& x, const Tensor& y, const PoolGeometry& g, bool count_include_pad) {
  const char* op = "avg_pool2d";
  if (y.numel() == 0) return;
  if (x.numel() == 0) {  // an empty plane (H or W is 0): every window lies in the padding, as the CPU: 0/(KH·KW) or 0/0
    y.fill_(count_include_pad ? 0.0 : NAN);
    return;
  }
  CudaBackend& b = backend_of(x);
  b.activate(op);
  const PoolingDesc pool(avg_mode(count_include_pad), g, op);
  const TensorDesc xd(x.dtype(), g.N, g.C, g.H, g.W, op), yd(x.dtype(), g.N, g.C, g.OH, g.OW, op);
  const Scale scale(x.dtype());
  TG_CUDNN_CHECK(cudnnPoolingForward(cudnn_handle(b, op), pool.get(), scale.one(), xd.get(), x.raw_data(),
                                     scale.zero(), yd.get(), y.raw_data()),
                 op);
}

// cudnnPoolingBackward asks for x and y, which an average's gradient does not depend
// on (TensorFlow's AvgPoolGrad hands cuDNN uninitialized buffers for the same
// reason): gy stands in for y and an uninitialized scratch of x's size for x.
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const PoolGeometry& g, bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  if (gx.numel() == 0) return;
  CudaBackend& b = backend_of(gy);
  b.activate(op);
  const PoolingDesc pool(avg_mode(count_include_pad), g, op);
  const TensorDesc xd(gy.dtype(), g.N, g.C, g.H, g.W, op), yd(gy.dtype(), g.N, g.C, g.OH, g.OW, op);
  const Scale scale(gy.dtype());
  const Scratch x_stand_in(b, (size_t)gx.numel() * dtype_size(gx.dtype()));
  TG_CUDNN_CHECK(cudnnPoolingBackward(cudnn_handle(b, op), pool.get(), scale.one(), yd.get(), gy.raw_data(),
                                      yd.get(), gy.raw_data(), xd.get(), x_stand_in.get(), scale.zero(), xd.get(),
                                      gx.raw_data()),
                 op);
}

void adaptive_avg_pool2d_forward(const Tensor& x, const Tensor& y) {
  CudaBackend& b = backend_of(x);
  b.activate("adaptive_avg_pool2d");
  TG_CUDA_CHECK(launch_adaptive_avg_pool2d(b.stream(), x.dtype(), x.raw_data(), y.raw_data(), adaptive_dims(x, y)),
                "adaptive_avg_pool2d");
}

void adaptive_avg_pool2d_backward(const Tensor& gy, const Tensor& gx) {
  CudaBackend& b = backend_of(gy);
  b.activate("adaptive_avg_pool2d_backward");
  TG_CUDA_CHECK(launch_adaptive_avg_pool2d_backward(b.stream(), gy.dtype(), gy.raw_data(), gx.raw_data(),
                                                    adaptive_dims(gx, gy)),
                "adaptive_avg_pool2d_backward");
}

TG_REGISTER_KERNEL(max_pool2d_forward_stub, DeviceType::CUDA, max_pool2d_forward);
TG_REGISTER_KERNEL(max_pool2d_backward_stub, DeviceType::CUDA, max_pool2d_backward);
TG_REGISTER_KERNEL(avg_pool2d_forward_stub, DeviceType::CUDA, avg_pool2d_forward);
TG_REGISTER_KERNEL(avg_pool2d_backward_stub, DeviceType::CUDA, avg_pool2d_backward);
TG_REGISTER_KERNEL(adaptive_avg_pool2d_forward_stub, DeviceType::CUDA, adaptive_avg_pool2d_forward);
TG_REGISTER_KERNEL(adaptive_avg_pool2d_backward_stub, DeviceType::CUDA, adaptive_avg_pool2d_backward);

}  // namespace tg::cuda
