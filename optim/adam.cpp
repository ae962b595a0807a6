#include "optim/adam.h"

#include "core/optim_kernels.h"

namespace tg {

Adam::Adam(std::vector<Variable> params, AdamOptions o) : Adam(std::move(params), o, false, "Adam") {}

Adam::Adam(std::vector<Variable> params, AdamOptions o, bool decoupled, const char* name)
    : Optimizer(std::move(params), name), opt_(o), decoupled_(decoupled) {
  TG_CHECK(o.lr >= 0, name, "invalid learning rate {}", o.lr);
  TG_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, name, "invalid betas ({}, {})", o.beta1, o.beta2);
  TG_CHECK(o.eps >= 0, name, "invalid eps {}", o.eps);
  lr_ = o.lr;
}

void Adam::step() {
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Variable& p = params_[i];
    if (!p.grad().defined()) continue;
    adam_update_(p.data(), p.grad().contiguous(), state(i, "exp_avg"), state(i, "exp_avg_sq"), lr_, opt_.beta1,
                 opt_.beta2, opt_.eps, opt_.weight_decay, decoupled_, step_);
  }
}

AdamW::AdamW(std::vector<Variable> params, AdamOptions o) : Adam(std::move(params), o, true, "AdamW") {}

}  // namespace tg
