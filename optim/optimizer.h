#pragma once
// Optimizer base: holds the parameters (Variables sharing storage with the model)
// and per-parameter state tensors, so that state_dict() can be checkpointed.
#include <vector>

#include "autograd/variable.h"

namespace tg {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Variable> params, const char* name);
  virtual ~Optimizer() = default;
  // Applies one update to every parameter that has a gradient.
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  const std::vector<Variable>& params() const { return params_; }

  // "step" (a 0-d float64 holding the step count) and "state.<i>.<name>" per parameter.
  NamedTensors state_dict() const;
  void load_state_dict(const NamedTensors& state);

 protected:
  // Per-parameter state tensor `name`, created as zeros like the parameter on first use.
  Tensor state(size_t i, const std::string& name);
  bool has_state(size_t i, const std::string& name) const;
  std::vector<Variable> params_;
  double lr_ = 0;
  int64_t step_ = 0;

 private:
  std::vector<NamedTensors> state_;
  const char* name_;
};

// Scales all gradients in place so that their global L2 norm is at most max_norm;
// returns the norm before clipping (torch.nn.utils.clip_grad_norm_).
double clip_grad_norm_(const std::vector<Variable>& params, double max_norm);

}  // namespace tg
