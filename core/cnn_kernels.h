#pragma once
// The kernels of the convolutional-network ops, one dispatch table each (core/dispatch.h);
// front functions and the math are in core/conv.h. Each backend registers its kernel
// beside its definition: the CPU in core/cpu/{conv,pool,batchnorm}.cpp, CUDA in
// core/cuda/cnn_{conv,pool,batchnorm}.cpp. Operands arrive contiguous, on one device,
// with matching dtype (float32 or float64) and sizes validated; outputs are
// preallocated and contiguous. An undefined output tensor means "not needed".
//
// Which library does what on CUDA, and why:
//  - convolution: cuDNN (cnn_conv.cpp), whose cross-correlation with groups and
//    dilation is exactly ours; grad_bias is our own sum, accumulated in double as the
//    CPU does.
//  - average pooling: cuDNN (cnn_pool.cpp), whose two average modes are our
//    count_include_pad true/false, window for window.
//  - max pooling, adaptive average pooling, batch normalization: own kernels
//    (cnn_pool.cu, cnn_batchnorm.cu); each file says where cuDNN differs.
#include "core/conv.h"
#include "core/dispatch.h"

namespace tg {

extern DispatchStub<void (*)(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                             const ConvGeometry& g)>
    conv2d_forward_stub;
extern DispatchStub<void (*)(const Tensor& gy, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw,
                             const Tensor& gb, const ConvGeometry& g)>
    conv2d_backward_stub;

// gx of max_pool2d_backward arrives zeroed.
extern DispatchStub<void (*)(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolGeometry& g)>
    max_pool2d_forward_stub;
extern DispatchStub<void (*)(const Tensor& gy, const Tensor& indices, const Tensor& gx)> max_pool2d_backward_stub;
extern DispatchStub<void (*)(const Tensor& x, const Tensor& y, const PoolGeometry& g, bool count_include_pad)>
    avg_pool2d_forward_stub;
extern DispatchStub<void (*)(const Tensor& gy, const Tensor& gx, const PoolGeometry& g, bool count_include_pad)>
    avg_pool2d_backward_stub;
extern DispatchStub<void (*)(const Tensor& x, const Tensor& y)> adaptive_avg_pool2d_forward_stub;
extern DispatchStub<void (*)(const Tensor& gy, const Tensor& gx)> adaptive_avg_pool2d_backward_stub;

// x viewed as [N, C, L].
extern DispatchStub<void (*)(const Tensor& x, const Tensor& mean, const Tensor& var)> batch_norm_stats_stub;
extern DispatchStub<void (*)(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                             const Tensor& bias, const Tensor& y)>
    batch_norm_apply_stub;
extern DispatchStub<void (*)(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                             const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw,
                             const Tensor& gb)>
    batch_norm_backward_stub;

}  // namespace tg
