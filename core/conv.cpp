// Front functions of the convolutional-network ops: argument checks, allocation and
// dispatch to the device's kernels (the math is in core/conv.h).
#include "core/conv.h"

#include <initializer_list>

#include "core/cnn_kernels.h"

namespace tg {

constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const ConvGeometry&)>
    conv2d_forward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                const Tensor&, const ConvGeometry&)>
    conv2d_backward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const PoolGeometry&)>
    max_pool2d_forward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&)> max_pool2d_backward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const PoolGeometry&, bool)> avg_pool2d_forward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const PoolGeometry&, bool)> avg_pool2d_backward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&)> adaptive_avg_pool2d_forward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&)> adaptive_avg_pool2d_backward_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&)> batch_norm_stats_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                const Tensor&)>
    batch_norm_apply_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool,
                                const Tensor&, const Tensor&, const Tensor&)>
    batch_norm_backward_stub;

namespace {

// Checks that x is a float tensor and that every defined operand shares its dtype and
// device (the stubs then check that the device exists and has the kernel).
void check_operands(const char* op, const Tensor& x, std::initializer_list<const Tensor*> others) {
  TG_CHECK(x.defined(), op, "input is undefined");
  TG_CHECK(is_floating(x.dtype()), op, "expected a float32 or float64 input, got {}", dtype_name(x.dtype()));
  for (const Tensor* t : others) {
    if (!t->defined()) continue;
    TG_CHECK(t->dtype() == x.dtype(), op, "operand of shape {} has dtype {} but the input has dtype {}",
             shape_str(t->shape()), dtype_name(t->dtype()), dtype_name(x.dtype()));
    TG_CHECK(t->device() == x.device(), op, "operand of shape {} is on {} but the input is on {}",
             shape_str(t->shape()), t->device().str(), x.device().str());
  }
}

Tensor contiguous_or_empty(const Tensor& t) { return t.defined() ? t.contiguous() : t; }

void check_window(const char* op, const char* what, Int2 v, int64_t min) {
  TG_CHECK(v.h >= min && v.w >= min, op, "{} must be >= {}, got ({}, {})", what, min, v.h, v.w);
}

ConvGeometry conv_geometry(const char* op, const Tensor& x, const Tensor& w, Int2 stride, Int2 padding,
                           Int2 dilation, int64_t groups) {
  TG_CHECK(x.dim() == 4, op, "expected a 4-D input [N, C, H, W], got shape {}", shape_str(x.shape()));
  TG_CHECK(w.dim() == 4, op, "expected a 4-D weight [out_channels, in_channels/groups, KH, KW], got shape {}",
           shape_str(w.shape()));
  check_window(op, "stride", stride, 1);
  check_window(op, "dilation", dilation, 1);
  check_window(op, "padding", padding, 0);
  TG_CHECK(groups >= 1, op, "groups must be positive, got {}", groups);
  ConvGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), 0, 0,
                 stride.h, stride.w, padding.h, padding.w, dilation.h, dilation.w, groups};
  TG_CHECK(g.C % groups == 0 && g.O % groups == 0, op,
           "groups={} must divide the input channels and output channels (input {}, weight {})", groups,
           shape_str(x.shape()), shape_str(w.shape()));
  TG_CHECK(w.size(1) * groups == g.C, op,
           "input of shape {} has {} channels but weight of shape {} expects {} (in_channels/groups={}, groups={})",
           shape_str(x.shape()), g.C, shape_str(w.shape()), w.size(1) * groups, w.size(1), groups);
  TG_CHECK(g.O > 0 && g.KH > 0 && g.KW > 0, op, "weight of shape {} is empty", shape_str(w.shape()));
  const int64_t eh = g.dh * (g.KH - 1) + 1, ew = g.dw * (g.KW - 1) + 1;
  TG_CHECK(eh <= g.H + 2 * g.ph && ew <= g.W + 2 * g.pw, op,
           "kernel {}x{} (dilated {}x{}) is larger than the padded input {}x{} (input {}, weight {}, padding ({}, {}))",
           g.KH, g.KW, eh, ew, g.H + 2 * g.ph, g.W + 2 * g.pw, shape_str(x.shape()), shape_str(w.shape()), g.ph, g.pw);
  g.OH = conv_out_size(g.H, g.KH, g.sh, g.ph, g.dh);
  g.OW = conv_out_size(g.W, g.KW, g.sw, g.pw, g.dw);
  return g;
}

void check_bias(const char* op, const Tensor& bias, int64_t O) {
  TG_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == O), op,
           "bias of shape {} does not match {} output channels", shape_str(bias.shape()), O);
}

PoolGeometry pool_geometry(const char* op, const Shape& s, Int2 kernel, Int2 stride, Int2 padding) {
  TG_CHECK(s.size() == 4, op, "expected a 4-D input [N, C, H, W], got shape {}", shape_str(s));
  check_window(op, "kernel_size", kernel, 1);
  check_window(op, "stride", stride, 1);
  check_window(op, "padding", padding, 0);
  TG_CHECK(2 * padding.h <= kernel.h && 2 * padding.w <= kernel.w, op,
           "padding ({}, {}) must be at most half of kernel_size ({}, {})", padding.h, padding.w, kernel.h, kernel.w);
  PoolGeometry g{s[0], s[1], s[2], s[3], 0, 0, kernel.h, kernel.w, stride.h, stride.w, padding.h, padding.w};
  TG_CHECK(g.KH <= g.H + 2 * g.ph && g.KW <= g.W + 2 * g.pw, op,
           "kernel {}x{} is larger than the padded input {}x{} (input {}, padding ({}, {}))", g.KH, g.KW,
           g.H + 2 * g.ph, g.W + 2 * g.pw, shape_str(s), g.ph, g.pw);
  g.OH = conv_out_size(g.H, g.KH, g.sh, g.ph, 1);
  g.OW = conv_out_size(g.W, g.KW, g.sw, g.pw, 1);
  return g;
}

void check_grad(const char* op, const Tensor& grad, const Shape& expected) {
  TG_CHECK(grad.shape() == expected, op, "grad_output of shape {} does not match the output shape {}",
           shape_str(grad.shape()), shape_str(expected));
}

void check_channel_vector(const char* op, const char* what, const Tensor& t, int64_t C, const Shape& x_shape) {
  TG_CHECK(!t.defined() || (t.dim() == 1 && t.size(0) == C), op, "{} of shape {} does not match {} channels of input {}",
           what, shape_str(t.shape()), C, shape_str(x_shape));
}

}  // namespace

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

namespace ops {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Int2 stride, Int2 padding, Int2 dilation,
              int64_t groups) {
  check_operands("conv2d", x, {&weight, &bias});
  const ConvGeometry g = conv_geometry("conv2d", x, weight, stride, padding, dilation, groups);
  check_bias("conv2d", bias, g.O);
  Tensor y = empty({g.N, g.O, g.OH, g.OW}, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  conv2d_forward_stub(x.device(), "conv2d", x.contiguous(), weight.contiguous(), contiguous_or_empty(bias), y, g);
  return y;
}

Conv2dGrads conv2d_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, Int2 stride, Int2 padding,
                            Int2 dilation, int64_t groups, bool need_x, bool need_weight, bool need_bias) {
  check_operands("conv2d_backward", x, {&weight, &grad_y});
  const ConvGeometry g = conv_geometry("conv2d_backward", x, weight, stride, padding, dilation, groups);
  check_grad("conv2d_backward", grad_y, {g.N, g.O, g.OH, g.OW});
  Conv2dGrads r;
  if (need_x) r.grad_x = empty(x.shape(), x.dtype(), x.device());
  if (need_weight) r.grad_weight = empty(weight.shape(), x.dtype(), x.device());
  if (need_bias) r.grad_bias = empty({g.O}, x.dtype(), x.device());
  if (!need_x && !need_weight && !need_bias) return r;
  if (grad_y.numel() == 0) {  // no output positions: every gradient is zero
    for (Tensor* t : {&r.grad_x, &r.grad_weight, &r.grad_bias})
      if (t->defined()) t->zero_();
    return r;
  }
  conv2d_backward_stub(x.device(), "conv2d_backward", grad_y.contiguous(), x.contiguous(), weight.contiguous(), r.grad_x,
                r.grad_weight, r.grad_bias, g);
  return r;
}

MaxPool2dResult max_pool2d(const Tensor& x, Int2 kernel, Int2 stride, Int2 padding) {
  check_operands("max_pool2d", x, {});
  const PoolGeometry g = pool_geometry("max_pool2d", x.shape(), kernel, stride, padding);
  MaxPool2dResult r{empty({g.N, g.C, g.OH, g.OW}, x.dtype(), x.device()),
                    empty({g.N, g.C, g.OH, g.OW}, kInt64, x.device())};
  max_pool2d_forward_stub(x.device(), "max_pool2d", x.contiguous(), r.y, r.indices, g);
  return r;
}

Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape) {
  check_operands("max_pool2d_backward", grad_y, {});
  TG_CHECK(indices.defined() && indices.device() == grad_y.device(), "max_pool2d_backward",
           "indices must be defined and on the device of grad_output ({}), got {}", grad_y.device().str(),
           indices.defined() ? indices.device().str() : "undefined");
  TG_CHECK(x_shape.size() == 4 && indices.dtype() == kInt64 && indices.shape() == grad_y.shape() &&
               grad_y.dim() == 4 && grad_y.size(0) == x_shape[0] && grad_y.size(1) == x_shape[1],
           "max_pool2d_backward", "grad_output {} and int64 indices {} do not fit the input shape {}",
           shape_str(grad_y.shape()), shape_str(indices.shape()), shape_str(x_shape));
  Tensor gx = zeros(x_shape, grad_y.dtype(), grad_y.device());
  max_pool2d_backward_stub(gx.device(), "max_pool2d_backward", grad_y.contiguous(), indices.contiguous(), gx);
  return gx;
}

Tensor avg_pool2d(const Tensor& x, Int2 kernel, Int2 stride, Int2 padding, bool count_include_pad) {
  check_operands("avg_pool2d", x, {});
  const PoolGeometry g = pool_geometry("avg_pool2d", x.shape(), kernel, stride, padding);
  Tensor y = empty({g.N, g.C, g.OH, g.OW}, x.dtype(), x.device());
  avg_pool2d_forward_stub(x.device(), "avg_pool2d", x.contiguous(), y, g, count_include_pad);
  return y;
}

Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, Int2 kernel, Int2 stride, Int2 padding,
                           bool count_include_pad) {
  check_operands("avg_pool2d_backward", grad_y, {});
  const PoolGeometry g = pool_geometry("avg_pool2d_backward", x_shape, kernel, stride, padding);
  check_grad("avg_pool2d_backward", grad_y, {g.N, g.C, g.OH, g.OW});
  Tensor gx = empty(x_shape, grad_y.dtype(), grad_y.device());
  avg_pool2d_backward_stub(gx.device(), "avg_pool2d_backward", grad_y.contiguous(), gx, g, count_include_pad);
  return gx;
}

Tensor adaptive_avg_pool2d(const Tensor& x, Int2 output_size) {
  check_operands("adaptive_avg_pool2d", x, {});
  TG_CHECK(x.dim() == 4, "adaptive_avg_pool2d", "expected a 4-D input [N, C, H, W], got shape {}",
           shape_str(x.shape()));
  check_window("adaptive_avg_pool2d", "output_size", output_size, 1);
  TG_CHECK(x.size(2) > 0 && x.size(3) > 0, "adaptive_avg_pool2d", "input of shape {} has an empty plane",
           shape_str(x.shape()));
  Tensor y = empty({x.size(0), x.size(1), output_size.h, output_size.w}, x.dtype(), x.device());
  adaptive_avg_pool2d_forward_stub(x.device(), "adaptive_avg_pool2d", x.contiguous(), y);
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) {
  check_operands("adaptive_avg_pool2d_backward", grad_y, {});
  TG_CHECK(x_shape.size() == 4 && grad_y.dim() == 4 && grad_y.size(0) == x_shape[0] && grad_y.size(1) == x_shape[1],
           "adaptive_avg_pool2d_backward", "grad_output {} does not fit the input shape {}",
           shape_str(grad_y.shape()), shape_str(x_shape));
  Tensor gx = empty(x_shape, grad_y.dtype(), grad_y.device());
  adaptive_avg_pool2d_backward_stub(gx.device(), "adaptive_avg_pool2d_backward", grad_y.contiguous(), gx);
  return gx;
}

BatchNormStats batch_norm_stats(const Tensor& x) {
  check_operands("batch_norm", x, {});
  TG_CHECK(x.dim() >= 2, "batch_norm", "expected an input [N, C, ...] of rank >= 2, got shape {}",
           shape_str(x.shape()));
  TG_CHECK(x.numel() > 0, "batch_norm", "input of shape {} is empty", shape_str(x.shape()));
  BatchNormStats s{empty({x.size(1)}, x.dtype(), x.device()), empty({x.size(1)}, x.dtype(), x.device())};
  batch_norm_stats_stub(x.device(), "batch_norm", x.contiguous(), s.mean, s.var);
  return s;
}

Tensor batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                        const Tensor& bias) {
  check_operands("batch_norm", x, {&mean, &invstd, &weight, &bias});
  TG_CHECK(x.dim() >= 2, "batch_norm", "expected an input [N, C, ...] of rank >= 2, got shape {}",
           shape_str(x.shape()));
  const int64_t C = x.size(1);
  TG_CHECK(mean.defined() && invstd.defined(), "batch_norm", "mean and invstd are required");
  check_channel_vector("batch_norm", "mean", mean, C, x.shape());
  check_channel_vector("batch_norm", "invstd", invstd, C, x.shape());
  check_channel_vector("batch_norm", "weight", weight, C, x.shape());
  check_channel_vector("batch_norm", "bias", bias, C, x.shape());
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  batch_norm_apply_stub(x.device(), "batch_norm", x.contiguous(), mean.contiguous(), invstd.contiguous(),
                contiguous_or_empty(weight), contiguous_or_empty(bias), y);
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean, const Tensor& invstd,
                                   const Tensor& weight, bool batch_stats, bool need_x, bool need_weight,
                                   bool need_bias) {
  check_operands("batch_norm_backward", x, {&grad_y, &mean, &invstd, &weight});
  check_grad("batch_norm_backward", grad_y, x.shape());
  TG_CHECK(x.dim() >= 2, "batch_norm_backward", "expected an input [N, C, ...] of rank >= 2, got shape {}",
           shape_str(x.shape()));
  TG_CHECK(mean.defined() && invstd.defined(), "batch_norm_backward", "mean and invstd are required");
  const int64_t C = x.size(1);
  check_channel_vector("batch_norm_backward", "mean", mean, C, x.shape());
  check_channel_vector("batch_norm_backward", "invstd", invstd, C, x.shape());
  check_channel_vector("batch_norm_backward", "weight", weight, C, x.shape());
  BatchNormGrads r;
  if (need_x) r.grad_x = empty(x.shape(), x.dtype(), x.device());
  if (need_weight) r.grad_weight = empty({C}, x.dtype(), x.device());
  if (need_bias) r.grad_bias = empty({C}, x.dtype(), x.device());
  batch_norm_backward_stub(x.device(), "batch_norm_backward", grad_y.contiguous(), x.contiguous(), mean.contiguous(),
                invstd.contiguous(), contiguous_or_empty(weight), batch_stats, r.grad_x, r.grad_weight, r.grad_bias);
  return r;
}

}  // namespace ops

}  // namespace tg
