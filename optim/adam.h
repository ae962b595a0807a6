#pragma once
#include "optim/optimizer.h"

namespace tg {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
};

// torch.optim.Adam (L2 penalty added to the gradient); see adam_update_.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Variable> params, AdamOptions options = {});
  void step() override;

 protected:
  Adam(std::vector<Variable> params, AdamOptions options, bool decoupled, const char* name);

 private:
  AdamOptions opt_;
  bool decoupled_;
};

// torch.optim.AdamW: decoupled weight decay (default 1e-2), p ← p·(1 − lr·wd) first.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Variable> params, AdamOptions options = {.lr = 1e-3, .weight_decay = 1e-2});
};

}  // namespace tg
