#include "layers/pool.h"

namespace tg {

using namespace ops;

// y = max over each window; the node saves the argmax indices: grad_x[index] += grad_y.
Variable max_pool2d(const Variable& x, Int2 kernel_size, std::optional<Int2> stride, Int2 padding) {
  MaxPool2dResult r = max_pool2d(x.data(), kernel_size, stride.value_or(kernel_size), padding);
  Tensor indices = r.indices;
  Shape x_shape = x.shape();
  return record("max_pool2d", r.y, {x}, [indices, x_shape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{max_pool2d_backward(g, indices, x_shape)};
  });
}

// y = window mean; grad_x receives grad_y / divisor over each window.
Variable avg_pool2d(const Variable& x, Int2 kernel_size, std::optional<Int2> stride, Int2 padding,
                    bool count_include_pad) {
  const Int2 s = stride.value_or(kernel_size);
  Tensor y = avg_pool2d(x.data(), kernel_size, s, padding, count_include_pad);
  Shape x_shape = x.shape();
  return record("avg_pool2d", y, {x},
                [x_shape, kernel_size, s, padding, count_include_pad](const Tensor& g, const std::vector<bool>&) {
                  return std::vector<Tensor>{avg_pool2d_backward(g, x_shape, kernel_size, s, padding,
                                                                 count_include_pad)};
                });
}

// y = mean over each adaptive bin; grad_x receives grad_y / |bin| over each bin.
Variable adaptive_avg_pool2d(const Variable& x, Int2 output_size) {
  Tensor y = adaptive_avg_pool2d(x.data(), output_size);
  Shape x_shape = x.shape();
  return record("adaptive_avg_pool2d", y, {x}, [x_shape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{adaptive_avg_pool2d_backward(g, x_shape)};
  });
}

MaxPool2d::MaxPool2d(Int2 k, std::optional<Int2> s, Int2 p) : kernel_size(k), stride(s.value_or(k)), padding(p) {}

AvgPool2d::AvgPool2d(Int2 k, std::optional<Int2> s, Int2 p, bool include_pad)
    : kernel_size(k), stride(s.value_or(k)), padding(p), count_include_pad(include_pad) {}

}  // namespace tg
