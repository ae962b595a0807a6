#pragma once
// Front functions of the convolutional-network ops on Tensors: 2-D convolution,
// max/average/adaptive-average pooling and batch normalization, each forward and
// backward. They check shapes, dtypes and devices (tg::Error names the op and the
// offending shapes), allocate the results and dispatch to the device's kernels
// (core/cnn_kernels.h). No gradients here: layers/ wraps them in Variables.
//
// The front functions are Tensor math in namespace tg::ops (see core/ops.h); the
// differentiable ops of the same names are in layers/.
//
// Layout is NCHW as torch. Inputs may be any strided view (they are made contiguous);
// results are contiguous. Only float32 and float64 are accepted, and all operands
// of one call must share dtype and device.
#include <cstdint>

#include "core/tensor.h"

namespace tg {

// A (height, width) pair; a single integer means the same value for both, as torch's _pair.
struct Int2 {
  int64_t h, w;
  Int2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit like torch's int-or-tuple arguments
  Int2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
};

// Every size a convolution kernel needs; filled and validated by the front functions.
struct ConvGeometry {
  int64_t N, C, H, W;         // input
  int64_t O, KH, KW;          // weight [O, C/groups, KH, KW]
  int64_t OH, OW;             // output [N, O, OH, OW]
  int64_t sh, sw, ph, pw, dh, dw, groups;
};

// Output size of a window op along one dim: ⌊(in + 2·pad − dil·(k − 1) − 1)/stride⌋ + 1.
int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation);

// The results of the front functions below.
struct Conv2dGrads {
  Tensor grad_x, grad_weight, grad_bias;
};
// Pooling windows of kernel (KH, KW) with stride and zero padding; padding at most half the kernel, as torch.
struct PoolGeometry {
  int64_t N, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw;
};
struct MaxPool2dResult {
  Tensor y, indices;
};
struct BatchNormStats {
  Tensor mean, var;
};
struct BatchNormGrads {
  Tensor grad_x, grad_weight, grad_bias;
};

namespace ops {

// ---- convolution -----------------------------------------------------------------------
// y[n,o] = b[o] + Σ_{c in o's group, i, j} w[o, c, i, j] · x_pad[n, c, oh·sh + i·dh, ow·sw + j·dw].
// x [N, C, H, W], weight [O, C/groups, KH, KW], bias [O] or undefined → [N, O, OH, OW].
// Requires C and O divisible by groups and the dilated kernel to fit the padded input.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Int2 stride = 1, Int2 padding = 0,
              Int2 dilation = 1, int64_t groups = 1);

// Gradients of conv2d given grad_y [N, O, OH, OW]. Each output is computed only when
// its flag is set (else undefined): grad_x [N,C,H,W], grad_weight [O,C/groups,KH,KW], grad_bias [O].
Conv2dGrads conv2d_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, Int2 stride, Int2 padding,
                            Int2 dilation, int64_t groups, bool need_x, bool need_weight, bool need_bias);

// ---- pooling ------------------------------------------------------------------------------
// y = max over each window (padding never wins); indices [N,C,OH,OW] int64 hold the
// flat position ih·W + iw of the maximum in its input plane (the first one on ties).
MaxPool2dResult max_pool2d(const Tensor& x, Int2 kernel, Int2 stride, Int2 padding = 0);
// grad_x[n, c, indices] += grad_y.
Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape);

// y = mean over each window; the divisor counts padded positions when count_include_pad
// (torch's default), else only the positions inside the input.
Tensor avg_pool2d(const Tensor& x, Int2 kernel, Int2 stride, Int2 padding = 0, bool count_include_pad = true);
Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, Int2 kernel, Int2 stride, Int2 padding,
                           bool count_include_pad);

// Output cell (i, j) averages rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 and the same for columns.
Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape);

// ---- batch normalization (x [N, C, ...], statistics per channel) ------------------------------
// Per-channel mean and biased variance over N and the trailing dims (float64 accumulation).
BatchNormStats batch_norm_stats(const Tensor& x);
// y = (x − mean[c])·invstd[c]·weight[c] + bias[c]; weight/bias may be undefined (1 and 0).
Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias);
// With x̂ = (x − mean)·invstd, ĝ = grad_y·weight and M = N·∏(trailing dims):
//   grad_weight = Σ grad_y·x̂, grad_bias = Σ grad_y,
//   grad_x = invstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) when batch_stats (mean/invstd came from x),
//   grad_x = invstd·ĝ otherwise (running statistics are constants).
BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                                   const Tensor& weight, bool batch_stats, bool need_x, bool need_weight,
                                   bool need_bias);

}  // namespace ops

}  // namespace tg
