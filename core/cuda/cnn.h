#pragma once
// CUDA kernels of the convolutional-network ops, with the contracts of their CPU
// twins (core/cpu/cnn_kernels.h): operands contiguous on one CUDA device, matching
// float dtype, sizes validated by the front functions (core/conv.h); outputs
// preallocated and contiguous; an undefined output means "not needed".
//
// Which library does what, and why:
//  - convolution: cuDNN (cnn_conv.cpp) — its cross-correlation with groups and
//    dilation is exactly ours; grad_bias is our own sum, accumulated in double as
//    the CPU does.
//  - average pooling: cuDNN (cnn_pool.cpp) — its two average modes are our
//    count_include_pad true/false, window for window.
//  - max pooling, adaptive average pooling, batch normalization: own kernels
//    (cnn_pool.cu, cnn_batchnorm.cu); each file says where cuDNN differs.
#include "core/conv.h"

namespace tg::cuda {

// cnn_conv.cpp
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
void conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw,
                     const Tensor& gb, const ConvGeometry& g);

// cnn_pool.cpp (gx of max_pool2d_backward arrives zeroed)
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolGeometry& g);
void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx);
void avg_pool2d_forward(const Tensor& x, const Tensor& y, const PoolGeometry& g, bool count_include_pad);
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const PoolGeometry& g, bool count_include_pad);
void adaptive_avg_pool2d_forward(const Tensor& x, const Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& gy, const Tensor& gx);

// cnn_batchnorm.cpp: x viewed as [N, C, L].
void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var);
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                      const Tensor& bias, const Tensor& y);
void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                         const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw, const Tensor& gb);

}  // namespace tg::cuda
