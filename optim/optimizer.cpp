#include "optim/optimizer.h"

#include <cmath>

namespace tg {

using namespace ops;

Optimizer::Optimizer(std::vector<Variable> params, const char* name)
    : params_(std::move(params)), state_(params_.size()), name_(name) {
  for (size_t i = 0; i < params_.size(); ++i)
    TG_CHECK(params_[i].requires_grad(), name_, "parameter {} does not require a gradient", i);
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

Tensor Optimizer::state(size_t i, const std::string& name) {
  for (auto& [n, t] : state_[i])
    if (n == name) return t;
  state_[i].emplace_back(name, zeros_like(params_[i].data()));
  return state_[i].back().second;
}

bool Optimizer::has_state(size_t i, const std::string& name) const {
  for (auto& [n, t] : state_[i])
    if (n == name) return true;
  return false;
}

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  out.emplace_back("step", scalar((double)step_, kFloat64));
  for (size_t i = 0; i < state_.size(); ++i)
    for (auto& [n, t] : state_[i]) out.emplace_back("state." + std::to_string(i) + "." + n, t);
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  bool have_step = false;
  for (auto& s : state_) s.clear();
  for (auto& [n, t] : state) {
    if (n == "step") {
      step_ = (int64_t)t.item();
      have_step = true;
      continue;
    }
    const auto dot1 = n.find('.'), dot2 = n.find('.', dot1 + 1);
    TG_CHECK(n.rfind("state.", 0) == 0 && dot2 != std::string::npos, name_, "unexpected optimizer tensor '{}'", n);
    const size_t i = std::stoul(n.substr(dot1 + 1, dot2 - dot1 - 1));
    TG_CHECK(i < params_.size(), name_, "optimizer tensor '{}' names parameter {} of {}", n, i, params_.size());
    TG_CHECK(t.shape() == params_[i].shape(), name_, "optimizer tensor '{}' has shape {}, parameter {} has {}", n,
             shape_str(t.shape()), i, shape_str(params_[i].shape()));
    state_[i].emplace_back(n.substr(dot2 + 1), t.to(params_[i].dtype()).to(params_[i].device()).clone());
  }
  TG_CHECK(have_step, name_, "optimizer state has no 'step' entry");
}

double clip_grad_norm_(const std::vector<Variable>& params, double max_norm) {
  double total = 0;
  for (auto& p : params)
    if (p.grad().defined()) total += sum(square(p.grad().to(kFloat64))).item();
  const double norm = std::sqrt(total);
  const double scale = max_norm / (norm + 1e-6);
  if (scale < 1)
    for (auto& p : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  return norm;
}

}  // namespace tg
