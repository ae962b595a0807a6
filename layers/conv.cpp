#include "layers/conv.h"

#include <cmath>

#include "layers/init.h"

namespace tg {

using namespace ops;

// Forward and backward are core's conv2d and conv2d_backward (math in core/conv.h);
// the node saves the input and the weight.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias, Int2 stride, Int2 padding,
                Int2 dilation, int64_t groups) {
  Tensor xd = x.data(), wd = weight.data();
  Tensor y = conv2d(xd, wd, bias.defined() ? bias.data() : Tensor(), stride, padding, dilation, groups);
  return record("conv2d", y, {x, weight, bias},
                [xd, wd, stride, padding, dilation, groups](const Tensor& g, const std::vector<bool>& needs) {
                  Conv2dGrads r = conv2d_backward(g, xd, wd, stride, padding, dilation, groups, needs[0], needs[1],
                                                  needs[2]);
                  return std::vector<Tensor>{r.grad_x, r.grad_weight, r.grad_bias};
                });
}

Conv2d::Conv2d(int64_t in, int64_t out, Int2 k, Int2 s, Int2 p, Int2 d, int64_t g, bool with_bias, DType dtype)
    : weight(register_parameter("weight", empty({out, in / std::max<int64_t>(g, 1), k.h, k.w}, dtype))),
      in_channels(in),
      out_channels(out),
      kernel_size(k),
      stride(s),
      padding(p),
      dilation(d),
      groups(g) {
  TG_CHECK(in > 0 && out > 0 && g > 0 && in % g == 0 && out % g == 0, "Conv2d",
           "in_channels={} and out_channels={} must be positive and divisible by groups={}", in, out, g);
  TG_CHECK(k.h > 0 && k.w > 0, "Conv2d", "kernel_size must be positive, got ({}, {})", k.h, k.w);
  const double bound = 1.0 / std::sqrt((double)(in / g * k.h * k.w));
  init::uniform_(weight.data(), -bound, bound);
  if (with_bias) {
    bias = register_parameter("bias", empty({out}, dtype));
    init::uniform_(bias.data(), -bound, bound);
  }
}

Variable Conv2d::forward(const Variable& x) {
  return conv2d(x, weight, bias, stride, padding, dilation, groups);
}

// As torch: channels and kernel always, the other options where they differ from the default.
std::string Conv2d::extra_repr() const {
  std::string s = fmt::format("{}, {}, kernel_size=({}, {}), stride=({}, {})", in_channels, out_channels,
                              kernel_size.h, kernel_size.w, stride.h, stride.w);
  if (padding.h != 0 || padding.w != 0) s += fmt::format(", padding=({}, {})", padding.h, padding.w);
  if (dilation.h != 1 || dilation.w != 1) s += fmt::format(", dilation=({}, {})", dilation.h, dilation.w);
  if (groups != 1) s += fmt::format(", groups={}", groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

}  // namespace tg
