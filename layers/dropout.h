#pragma once
// Dropout, as torch.nn.Dropout: in training each element is kept with probability
// 1 − p and scaled by 1/(1 − p) (inverted dropout, so evaluation is the identity).
// The mask comes from the counter-based generator: the same generator state gives
// the same mask, whatever the thread count.
#include "core/random.h"
#include "layers/module.h"

namespace tg {

// y = x·m/(1 − p), m ~ Bernoulli(1 − p) elementwise; dy/dx = m/(1 − p). p = 1 gives
// zeros; training = false returns x. gen: the default generator when null.
Variable dropout(const Variable& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Variable forward(const Variable& x) override { return dropout(x, p, training_, gen_); }
  std::string name() const override { return "Dropout"; }
  std::string extra_repr() const override { return fmt::format("p={}", p); }
  const double p;

 private:
  Generator* gen_;
};

}  // namespace tg
