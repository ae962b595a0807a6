#pragma once
// Learning-rate schedules, as torch.optim.lr_scheduler: call step() once per epoch.
// The rate is a pure function of the epoch count, so a resumed run that sets the
// epoch gets the same rates.
#include "optim/optimizer.h"

namespace tg {

// lr(epoch) = base_lr · gamma^⌊epoch / step_size⌋ (ExponentialLR is step_size = 1).
class StepLR {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma);
  void step() { set_epoch(epoch_ + 1); }
  void set_epoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }

 private:
  Optimizer& opt_;
  double base_lr_;
  int64_t step_size_;
  double gamma_;
  int64_t epoch_ = 0;
};

}  // namespace tg
