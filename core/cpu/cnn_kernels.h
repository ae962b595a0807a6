#pragma once
// CPU kernels of the convolutional-network ops (core/conv.h holds the front functions
// and the math). Operands arrive contiguous, with matching dtype (float32 or float64)
// and sizes validated; outputs are preallocated and contiguous. An undefined output
// tensor means "not needed" and is skipped.
#include "core/conv.h"

namespace tg::cpu {

// conv.cpp: im2col + GEMM, parallel over (sample, group) with per-thread column buffers.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g);
void conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw,
                     const Tensor& gb, const ConvGeometry& g);

// pool.cpp: parallel over the N·C planes.
void max_pool2d_forward(const Tensor& x, const Tensor& y, const Tensor& indices, const PoolGeometry& g);
void max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Tensor& gx);
void avg_pool2d_forward(const Tensor& x, const Tensor& y, const PoolGeometry& g, bool count_include_pad);
void avg_pool2d_backward(const Tensor& gy, const Tensor& gx, const PoolGeometry& g, bool count_include_pad);
void adaptive_avg_pool2d_forward(const Tensor& x, const Tensor& y);
void adaptive_avg_pool2d_backward(const Tensor& gy, const Tensor& gx);

// batchnorm.cpp: x viewed as [N, C, L]; parallel over channels.
void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var);
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                      const Tensor& bias, const Tensor& y);
void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                         const Tensor& weight, bool batch_stats, const Tensor& gx, const Tensor& gw, const Tensor& gb);

}  // namespace tg::cpu
