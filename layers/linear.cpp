#include "layers/linear.h"

#include <cmath>

#include <fmt/format.h>

#include "layers/init.h"

namespace tg {

using namespace ops;

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  TG_CHECK(x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1), "linear",
           "input of shape {} does not match weight of shape {} (expected [..., {}])", shape_str(x.shape()),
           shape_str(weight.shape()), weight.dim() == 2 ? weight.size(1) : -1);
  Variable y = matmul(x, transpose(weight, 0, 1));
  if (bias.defined()) {
    TG_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear", "bias of shape {} does not match weight {}",
             shape_str(bias.shape()), shape_str(weight.shape()));
    y = add(y, bias);
  }
  return y;
}

Linear::Linear(int64_t in, int64_t out, bool with_bias, DType dtype)
    : weight(register_parameter("weight", empty({out, in}, dtype))), in_features(in), out_features(out) {
  TG_CHECK(in > 0 && out > 0, "Linear", "features must be positive, got in={} out={}", in, out);
  const double bound = 1.0 / std::sqrt((double)in);
  init::uniform_(weight.data(), -bound, bound);
  if (with_bias) {
    bias = register_parameter("bias", empty({out}, dtype));
    init::uniform_(bias.data(), -bound, bound);
  }
}

Variable Linear::forward(const Variable& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     bias.defined() ? "True" : "False");
}

}  // namespace tg
