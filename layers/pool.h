#pragma once
// Pooling layers over NCHW inputs, as torch.nn: MaxPool2d, AvgPool2d and
// AdaptiveAvgPool2d (AdaptiveAvgPool2d(1) is global average pooling). The stride
// defaults to the kernel size. Math in core/conv.h.
#include <optional>

#include "core/conv.h"
#include "layers/module.h"

namespace tg {

// Gradient to the position of each window's maximum (the first one on ties).
Variable max_pool2d(const Variable& x, Int2 kernel_size, std::optional<Int2> stride = std::nullopt,
                    Int2 padding = 0);
Variable avg_pool2d(const Variable& x, Int2 kernel_size, std::optional<Int2> stride = std::nullopt,
                    Int2 padding = 0, bool count_include_pad = true);
Variable adaptive_avg_pool2d(const Variable& x, Int2 output_size);

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Int2 kernel_size, std::optional<Int2> stride = std::nullopt, Int2 padding = 0);
  Variable forward(const Variable& x) override { return max_pool2d(x, kernel_size, stride, padding); }
  std::string name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override {
    return fmt::format("kernel_size=({}, {}), stride=({}, {}), padding=({}, {})", kernel_size.h, kernel_size.w,
                       stride.h, stride.w, padding.h, padding.w);
  }
  const Int2 kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Int2 kernel_size, std::optional<Int2> stride = std::nullopt, Int2 padding = 0,
                     bool count_include_pad = true);
  Variable forward(const Variable& x) override {
    return avg_pool2d(x, kernel_size, stride, padding, count_include_pad);
  }
  std::string name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override {
    return fmt::format("kernel_size=({}, {}), stride=({}, {}), padding=({}, {}), count_include_pad={}", kernel_size.h,
                       kernel_size.w, stride.h, stride.w, padding.h, padding.w, count_include_pad ? "True" : "False");
  }
  const Int2 kernel_size, stride, padding;
  const bool count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Int2 output_size) : output_size(output_size) {}
  Variable forward(const Variable& x) override { return adaptive_avg_pool2d(x, output_size); }
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override { return fmt::format("output_size=({}, {})", output_size.h, output_size.w); }
  const Int2 output_size;
};

}  // namespace tg
