#include "optim/sgd.h"

#include "core/optim_kernels.h"

namespace tg {

SGD::SGD(std::vector<Variable> params, SGDOptions o) : Optimizer(std::move(params), "SGD"), opt_(o) {
  TG_CHECK(o.lr >= 0, "SGD", "invalid learning rate {}", o.lr);
  TG_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD", "Nesterov momentum requires momentum > 0 and zero dampening");
  lr_ = o.lr;
}

void SGD::step() {
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Variable& p = params_[i];
    if (!p.grad().defined()) continue;
    const Tensor g = p.grad().contiguous();
    // The buffer starts as the gradient on the parameter's first update (torch's
    // "buffer is None"), which is later than step 1 for a parameter without a gradient
    // until then. Without momentum there is no buffer: the gradient stands in, never written.
    const bool first = !has_state(i, "momentum_buffer");
    const Tensor buf = opt_.momentum != 0 ? state(i, "momentum_buffer") : g;
    sgd_update_(p.data(), g, buf, lr_, opt_.momentum, opt_.dampening, opt_.weight_decay, opt_.nesterov, first);
  }
}

}  // namespace tg
