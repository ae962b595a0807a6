#include "optim/optimizer.h"

#include <charconv>
#include <cmath>
#include <optional>

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
  // All or nothing: the state is parsed and checked aside, then replaces the current one.
  std::optional<int64_t> step;
  std::vector<NamedTensors> loaded(params_.size());
  for (auto& [n, t] : state) {
    if (n == "step") {
      TG_CHECK(t.numel() == 1, name_, "optimizer 'step' has shape {}, expected one element", shape_str(t.shape()));
      const double v = t.item();
      TG_CHECK(v >= 0 && v <= 9007199254740992.0 && v == std::floor(v), name_,
               "optimizer 'step' is {}, expected a non-negative integer", v);
      step = (int64_t)v;
      continue;
    }
    const auto dot1 = n.find('.'), dot2 = n.find('.', dot1 + 1);
    TG_CHECK(n.rfind("state.", 0) == 0 && dot2 != std::string::npos, name_, "unexpected optimizer tensor '{}'", n);
    size_t i = 0;
    const char *first = n.data() + dot1 + 1, *last = n.data() + dot2;
    const auto [end, ec] = std::from_chars(first, last, i);
    TG_CHECK(ec == std::errc() && end == last && first != last, name_,
             "unexpected optimizer tensor '{}': '{}' is not a parameter index", n, std::string(first, last));
    TG_CHECK(i < params_.size(), name_, "optimizer tensor '{}' names parameter {} of {}", n, i, params_.size());
    TG_CHECK(t.shape() == params_[i].shape(), name_, "optimizer tensor '{}' has shape {}, parameter {} has {}", n,
             shape_str(t.shape()), i, shape_str(params_[i].shape()));
    loaded[i].emplace_back(n.substr(dot2 + 1), t.to(params_[i].dtype()).to(params_[i].device()).clone());
  }
  TG_CHECK(step.has_value(), name_, "optimizer state has no 'step' entry");
  step_ = *step;
  state_ = std::move(loaded);
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
