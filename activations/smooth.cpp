#include "activations/smooth.h"

#include "activations/pointwise_smooth.h"
#include "activations/unary.h"

namespace tg {

using act::From;

Variable silu(const Variable& x) { return act::unary_activation("silu", x, From::Input, act::Silu{}); }

Variable mish(const Variable& x) { return act::unary_activation("mish", x, From::Input, act::Mish{}); }

Variable softplus(const Variable& x, double beta, double threshold) {
  TG_CHECK(beta != 0, "softplus", "beta must not be 0");
  return act::unary_activation("softplus", x, From::Input, act::Softplus{beta, threshold});
}

Softplus::Softplus(double b, double t) : beta(b), threshold(t) { TG_CHECK(beta != 0, "Softplus", "beta must not be 0"); }

}  // namespace tg
