#pragma once
#include "optim/optimizer.h"

namespace tg {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

// torch.optim.SGD: see sgd_update_ in core/optim_kernels.h for the update rule.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Variable> params, SGDOptions options);
  void step() override;

 private:
  SGDOptions opt_;
};

}  // namespace tg
