#include "activations/basic.h"

#include "activations/pointwise_basic.h"
#include "activations/unary.h"

namespace tg {

using act::From;

Variable relu(const Variable& x) { return act::unary_activation("relu", x, From::Output, act::Relu{}); }

Variable tanh(const Variable& x) { return act::unary_activation("tanh", x, From::Output, act::Tanh{}); }

Variable sigmoid(const Variable& x) { return act::unary_activation("sigmoid", x, From::Output, act::Sigmoid{}); }

Variable gelu(const Variable& x) { return act::unary_activation("gelu", x, From::Input, act::Gelu{}); }

Variable gelu(const Variable& x, const std::string& approximate) {
  TG_CHECK(approximate == "none" || approximate == "tanh", "gelu", "approximate must be 'none' or 'tanh', got '{}'",
           approximate);
  return approximate == "tanh" ? act::unary_activation("gelu_tanh", x, From::Input, act::GeluTanh{}) : gelu(x);
}

GELU::GELU(std::string approx) : approximate(std::move(approx)) {
  TG_CHECK(approximate == "none" || approximate == "tanh", "GELU", "approximate must be 'none' or 'tanh', got '{}'",
           approximate);
}

}  // namespace tg
