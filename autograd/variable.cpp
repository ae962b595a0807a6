#include "autograd/variable.h"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "autograd/anomaly.h"

namespace tg {

using namespace ops;

namespace {
thread_local bool g_grad_enabled = true;
std::atomic<uint64_t> g_seq{0};
}  // namespace

Node::~Node() {
  // A node whose last owner is this one hands its own inputs to the work list before
  // it dies, so each destructor below sees an empty `next` and returns at once.
  std::vector<std::shared_ptr<Node>> work = std::move(next);
  while (!work.empty()) {
    std::shared_ptr<Node> n = std::move(work.back());
    work.pop_back();
    if (n && n.use_count() == 1) {
      for (auto& m : n->next) work.push_back(std::move(m));
      n->next.clear();
    }
  }
}

bool GradMode::enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool on) { g_grad_enabled = on; }

Variable::Variable(Tensor data, bool requires_grad) : impl_(std::make_shared<VariableImpl>()) {
  TG_CHECK(data.defined(), "Variable", "cannot wrap an undefined tensor");
  impl_->data = std::move(data);
  set_requires_grad(requires_grad);
}

Variable& Variable::set_requires_grad(bool r) {
  TG_CHECK(!r || is_floating(impl_->data.dtype()), "requires_grad", "only float tensors can require gradients, got {}",
           dtype_name(impl_->data.dtype()));
  TG_CHECK(is_leaf() || r, "requires_grad", "cannot turn off requires_grad of a non-leaf variable (use detach())");
  impl_->requires_grad = r;
  return *this;
}

std::shared_ptr<Node> Variable::gradient_edge() const {
  if (!requires_grad()) return nullptr;
  if (impl_->grad_fn) return impl_->grad_fn;
  if (!impl_->accumulator) {
    auto n = std::make_shared<Node>();
    n->name = "AccumulateGrad";
    n->seq = 0;  // run_backward schedules a leaf right after its last consumer
    n->leaf = impl_;
    n->out_shape = impl_->data.shape();
    n->out_dtype = impl_->data.dtype();
    impl_->accumulator = n;
  }
  return impl_->accumulator;
}

void Variable::register_hook(GradHook fn) {
  TG_CHECK(requires_grad(), "register_hook", "the variable does not require a gradient");
  gradient_edge()->hooks.push_back(std::move(fn));
}

Variable Variable::detach() const { return Variable(impl_->data, false); }

void Variable::zero_grad() { impl_->grad = Tensor(); }

void Variable::backward() const {
  TG_CHECK(defined(), "backward", "undefined variable");
  TG_CHECK(numel() == 1, "backward",
           "gradient can be implicitly created only for a one-element output, got shape {}; pass a gradient",
           shape_str(shape()));
  run_backward({*this}, {ones_like(data())});
}

void Variable::backward(const Tensor& grad) const { run_backward({*this}, {grad}); }

Variable record(const char* name, Tensor out, const std::vector<Variable>& inputs, BackwardFn backward) {
  Variable result(std::move(out));
  if (!GradMode::enabled()) return result;
  bool any = false;
  for (const Variable& v : inputs) any = any || v.requires_grad();
  if (!any) return result;
  auto n = std::make_shared<Node>();
  n->name = name;
  n->seq = ++g_seq;
  n->backward = std::move(backward);
  n->out_shape = result.shape();
  n->out_dtype = result.dtype();
  n->next.reserve(inputs.size());
  for (const Variable& v : inputs) n->next.push_back(v.defined() ? v.gradient_edge() : nullptr);
  if (AnomalyMode::enabled())
    for (const Variable& v : inputs) n->input_shapes.push_back(v.defined() ? v.shape() : Shape{});
  result.impl()->grad_fn = std::move(n);
  result.impl()->requires_grad = true;
  return result;
}

void run_backward(const std::vector<Variable>& roots, const std::vector<Tensor>& grads) {
  NoGrad no_grad;  // the backward pass itself is not recorded
  std::unordered_map<Node*, Tensor> pending;
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Variable& r = roots[i];
    TG_CHECK(r.requires_grad(), "backward", "the variable does not require a gradient and has no grad_fn");
    TG_CHECK(grads[i].shape() == r.shape(), "backward", "gradient shape {} does not match output shape {}",
             shape_str(grads[i].shape()), shape_str(r.shape()));
    TG_CHECK(grads[i].dtype() == r.dtype(), "backward", "gradient dtype {} does not match output dtype {}",
             dtype_name(grads[i].dtype()), dtype_name(r.dtype()));
    Node* n = r.gradient_edge().get();
    pending[n] = pending.count(n) ? add(pending[n], grads[i]) : grads[i];
    if (seen.insert(n).second) stack.push_back(n);
  }
  // A leaf's gradient is final once its oldest consumer in this graph has run: it runs
  // right then (key 2·seq − 1), so gradient hooks on parameters fire during backward
  // (DistributedDataParallel starts communication from them), not all at the end.
  std::unordered_map<Node*, uint64_t> leaf_key;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (auto& m : n->next) {
      if (!m) continue;
      if (!m->backward) {
        auto [it, fresh] = leaf_key.emplace(m.get(), 2 * n->seq - 1);
        if (!fresh) it->second = std::min(it->second, 2 * n->seq - 1);
      }
      if (seen.insert(m.get()).second) stack.push_back(m.get());
    }
  }
  // Newest first; a node's seq is larger than those of all nodes it depends on.
  auto key = [&](Node* n) {
    auto it = leaf_key.find(n);
    return n->backward || it == leaf_key.end() ? 2 * n->seq : it->second;
  };
  std::sort(order.begin(), order.end(), [&](Node* a, Node* b) { return key(a) > key(b); });
  for (Node* n : order) {
    auto it = pending.find(n);
    if (it == pending.end()) continue;
    Tensor g = std::move(it->second);
    pending.erase(it);
    for (auto& h : n->hooks) h(g);
    if (!n->backward) {  // a leaf: accumulate
      if (auto leaf = n->leaf.lock()) {
        if (leaf->grad.defined()) {
          leaf->grad.add_(g);
        } else {
          leaf->grad = g.clone();
        }
      }
      continue;
    }
    std::vector<bool> needs(n->next.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = n->next[i] != nullptr;
    std::vector<Tensor> gin = n->backward(g, needs);
    TG_CHECK(gin.size() == n->next.size(), n->name, "backward returned {} gradients for {} inputs", gin.size(),
             n->next.size());
    const bool check_finite = AnomalyMode::enabled();
    for (size_t i = 0; i < gin.size(); ++i) {
      Node* m = n->next[i].get();
      if (!m || !gin[i].defined()) continue;
      TG_CHECK(gin[i].shape() == m->out_shape, n->name, "backward produced gradient of shape {} for input {} of shape {}",
               shape_str(gin[i].shape()), i, shape_str(m->out_shape));
      if (check_finite) check_backward_output(*n, i, gin[i]);
      auto p = pending.find(m);
      if (p == pending.end()) {
        pending.emplace(m, gin[i]);
      } else {
        p->second = add(p->second, gin[i]);
      }
    }
  }
}

}  // namespace tg
