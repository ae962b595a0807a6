#include "optim/lr_scheduler.h"

#include <cmath>

namespace tg {

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : opt_(opt), base_lr_(opt.lr()), step_size_(step_size), gamma_(gamma) {
  TG_CHECK(step_size > 0, "StepLR", "step_size must be positive, got {}", step_size);
  TG_CHECK(gamma > 0, "StepLR", "gamma must be positive, got {}", gamma);
}

void StepLR::set_epoch(int64_t epoch) {
  TG_CHECK(epoch >= 0, "StepLR", "epoch must be non-negative, got {}", epoch);
  epoch_ = epoch;
  opt_.set_lr(base_lr_ * std::pow(gamma_, (double)(epoch / step_size_)));
}

}  // namespace tg
