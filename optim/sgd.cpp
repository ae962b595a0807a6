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
    Tensor buf = opt_.momentum != 0 ? state(i, "momentum_buffer") : p.grad();
    sgd_update_(p.data(), p.grad().contiguous(), buf, lr_, opt_.momentum, opt_.dampening, opt_.weight_decay,
                opt_.nesterov, step_ == 1);
  }
}

}  // namespace tg
