#include "layers/dropout.h"

namespace tg {

using namespace ops;

static void check_p(double p) {
  TG_CHECK(p >= 0 && p <= 1, "dropout", "probability p must be in [0, 1], got {}", p);
}

// The scaled mask s = m/(1 − p) is saved: y = x·s and grad_x = grad_y·s.
Variable dropout(const Variable& x, double p, bool training, Generator* gen) {
  check_p(p);
  TG_CHECK(is_floating(x.dtype()), "dropout", "expected a float input, got {}", dtype_name(x.dtype()));
  if (!training || p == 0) return x;
  Tensor scale = p == 1 ? zeros(x.shape(), x.dtype(), x.device())
                        : bernoulli(full(x.shape(), 1 - p, x.dtype(), x.device()), gen);
  if (p < 1) scale.mul_(1 / (1 - p));
  return mul(x, Variable(scale));
}

Dropout::Dropout(double p_, Generator* gen) : p(p_), gen_(gen) { check_p(p_); }

}  // namespace tg
