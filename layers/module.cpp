#include "layers/module.h"

#include <map>
#include <ostream>

namespace tg {

void HookHandle::remove() {
  if (auto hooks = hooks_.lock())
    std::erase_if(*hooks, [&](const auto& h) { return h.first == id_; });
  hooks_.reset();
}

HookHandle Module::register_forward_hook(ForwardHook fn) {
  TG_CHECK(fn != nullptr, "register_forward_hook", "the hook of {} is empty", name());
  if (!hooks_) hooks_ = std::make_shared<HookHandle::Hooks>();
  hooks_->emplace_back(next_hook_id_, std::move(fn));
  return HookHandle(hooks_, next_hook_id_++);
}

// A copy of the list, so a hook may remove itself or another one.
void Module::run_forward_hooks(const Variable& x, const Variable& y) {
  const HookHandle::Hooks hooks = *hooks_;
  for (const auto& [id, fn] : hooks) fn(*this, x, y);
}

Variable& Module::register_parameter(const std::string& name, Tensor value) {
  params_.push_back(std::make_unique<std::pair<std::string, Variable>>(name, Variable(std::move(value), true)));
  return params_.back()->second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.push_back(std::make_unique<std::pair<std::string, Tensor>>(name, std::move(value)));
  return buffers_.back()->second;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Variable>>* params,
                     NamedTensors* buffers) const {
  if (params)
    for (auto& p : params_) params->emplace_back(prefix + p->first, p->second);
  if (buffers)
    for (auto& b : buffers_) buffers->emplace_back(prefix + b->first, b->second);
  for (auto& [n, c] : children_) c->collect(prefix + n + ".", params, buffers);
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out;
  collect("", &out, nullptr);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [n, v] : named_parameters()) out.push_back(v);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", nullptr, &out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  for (auto& [n, v] : named_parameters()) out.emplace_back(n, v.data());
  for (auto& b : named_buffers()) out.push_back(b);
  return out;
}

void Module::load_state_dict(const NamedTensors& state) {
  std::map<std::string, const Tensor*> given;
  for (auto& [n, t] : state) given[n] = &t;
  NamedTensors mine = state_dict();
  for (auto& [n, t] : mine) {
    auto it = given.find(n);
    TG_CHECK(it != given.end(), "load_state_dict", "missing tensor '{}' (shape {})", n, shape_str(t.shape()));
    TG_CHECK(it->second->shape() == t.shape(), "load_state_dict", "tensor '{}' has shape {}, the module expects {}", n,
             shape_str(it->second->shape()), shape_str(t.shape()));
    given.erase(it);
  }
  TG_CHECK(given.empty(), "load_state_dict", "unexpected tensor '{}' not in the module", given.begin()->first);
  for (auto& [n, t] : mine)
    for (auto& [m, s] : state)
      if (m == n) t.copy_(s);
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.zero_grad();
}

void Module::to(DType dtype) {
  for (auto& p : params_) p->second.data() = p->second.data().to(dtype);
  for (auto& b : buffers_)
    if (is_floating(b->second.dtype())) b->second = b->second.to(dtype);
  for (auto& [n, c] : children_) c->to(dtype);
}

void Module::to(Device device) {
  for (auto& p : params_) p->second.data() = p->second.data().to(device);
  for (auto& b : buffers_) b->second = b->second.to(device);
  for (auto& [n, c] : children_) c->to(device);
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.numel();
  return n;
}

static void print_module(std::ostream& os, const Module& m, const std::string& indent) {
  os << m.name() << "(" << m.extra_repr();
  const int64_t n = m.num_parameters();
  const std::string count = n > 0 ? "  # " + std::to_string(n) + (n == 1 ? " parameter" : " parameters") : "";
  if (m.children().empty()) {
    os << ")" << count;
    return;
  }
  os << count << "\n";
  for (auto& [name, child] : m.children()) {
    os << indent << "  (" << name << "): ";
    print_module(os, *child, indent + "  ");
    os << "\n";
  }
  os << indent << ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  print_module(os, m, "");
  return os;
}

Sequential::Sequential(std::initializer_list<AnyModule> modules) {
  for (auto& m : modules) add(m);
}

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  for (auto& m : modules) add(m);
}

Sequential& Sequential::add(AnyModule m) {
  register_module(std::to_string(children().size()), m.ptr());
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable h = x;
  for (auto& [n, c] : children()) h = (*c)(h);
  return h;
}

}  // namespace tg
