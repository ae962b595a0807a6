#include "activations/hard.h"

#include "activations/pointwise_hard.h"
#include "activations/unary.h"

namespace tg {

using act::From;

Variable hardsigmoid(const Variable& x) {
  return act::unary_activation("hardsigmoid", x, From::Output, act::Hardsigmoid{});
}

Variable hardswish(const Variable& x) { return act::unary_activation("hardswish", x, From::Input, act::Hardswish{}); }

Variable hardgelu(const Variable& x) { return act::unary_activation("hardgelu", x, From::Input, act::Hardgelu{}); }

Variable hardgelu_clamped(const Variable& x) {
  return act::unary_activation("hardgelu_clamped", x, From::Input, act::HardgeluClamped{});
}

}  // namespace tg
