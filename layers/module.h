#pragma once
// Module: the base of every layer. It owns named parameters (Variables that require
// gradients), named buffers (Tensors such as running statistics, updated in place)
// and named children, so that parameters(), state_dict() and train()/eval() walk
// the whole tree with PyTorch-style dotted names ("features.0.weight").
// `std::cout << model` prints the tree as PyTorch's repr does, with parameter counts.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "core/shared.h"

namespace tg {

class Module;

// fn(module, input, output) runs after module's forward when it is called through
// operator() (containers call their children that way), in registration order.
using ForwardHook = std::function<void(Module& module, const Variable& input, const Variable& output)>;

// What register_forward_hook returns: remove() unregisters the hook (once; later calls
// and calls after the module is gone do nothing), like torch's RemovableHandle.
class HookHandle {
 public:
  HookHandle() = default;
  void remove();

 private:
  friend class Module;
  using Hooks = std::vector<std::pair<uint64_t, ForwardHook>>;
  HookHandle(std::weak_ptr<Hooks> hooks, uint64_t id) : hooks_(std::move(hooks)), id_(id) {}
  std::weak_ptr<Hooks> hooks_;
  uint64_t id_ = 0;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  // Moving keeps every handle valid: parameters and buffers live in stable heap slots.
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // Single-input, single-output forward; containers and layers override it.
  virtual Variable forward(const Variable& x) = 0;
  // forward(x), then the forward hooks (none registered: one pointer test).
  Variable operator()(const Variable& x) {
    Variable y = forward(x);
    if (hooks_ && !hooks_->empty()) run_forward_hooks(x, y);
    return y;
  }
  HookHandle register_forward_hook(ForwardHook fn);

  std::vector<Variable> parameters() const;
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  // Parameters then buffers, with dotted names, sharing storage with the module.
  NamedTensors state_dict() const;
  // Copies values in place. Missing or unexpected names and shape mismatches are
  // errors naming the tensor (strict, as torch's default).
  void load_state_dict(const NamedTensors& state);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  // Moves or converts every parameter and buffer in place (the handles stay valid).
  void to(DType dtype);
  void to(Device device);
  // The type's name ("Linear") and its options ("in_features=2, out_features=16,
  // bias=True"), as PyTorch's repr prints them: `std::cout << module` uses both.
  virtual std::string name() const = 0;
  virtual std::string extra_repr() const { return {}; }
  // Number of parameter elements in the module and its children.
  int64_t num_parameters() const;

 protected:
  Variable& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  // Called after train()/eval() on this module (children are handled by the base).
  virtual void on_train(bool) {}

  bool training_ = true;

 private:
  void run_forward_hooks(const Variable& x, const Variable& y);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Variable>>* params,
               NamedTensors* buffers) const;
  // Stable addresses: layers keep references to their own parameters and buffers.
  std::vector<std::unique_ptr<std::pair<std::string, Variable>>> params_;
  std::vector<std::unique_ptr<std::pair<std::string, Tensor>>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::shared_ptr<HookHandle::Hooks> hooks_;  // made on the first registration
  uint64_t next_hook_id_ = 0;
};

// Prints `m` as PyTorch's repr, one line per child, with parameter counts:
//   Sequential(  # 65 parameters
//     (0): Linear(in_features=2, out_features=16, bias=True)  # 48 parameters
//     (1): Tanh()
//     ...
//   )
std::ostream& operator<<(std::ostream& os, const Module& m);

// A module handed to a container: a module value (moved into shared ownership, so
// Sequential{Linear(2, 16), Tanh()} needs no make_shared) or a shared_ptr to one
// (shared with the caller, who keeps a typed handle). See core/shared.h.
using AnyModule = Shared<Module>;

// Sequential: applies its children in order (through operator(), so their hooks run); children are named "0", "1", ...
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<AnyModule> modules);
  // A list built at run time.
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);
  // Appends m (named by its position); add and push_back are the same.
  Sequential& add(AnyModule m);
  Sequential& push_back(AnyModule m) { return add(std::move(m)); }
  Variable forward(const Variable& x) override;
  std::shared_ptr<Module> operator[](size_t i) const { return children()[i].second; }
  size_t size() const { return children().size(); }
  std::string name() const override { return "Sequential"; }
};

}  // namespace tg
