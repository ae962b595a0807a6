#pragma once
// Tape-based reverse-mode autograd.
//
// A Variable wraps a core Tensor with an optional gradient and the Node that made
// it. Each differentiable op records one Node: the closure holding only the tensors
// its backward needs, edges to the nodes of its inputs, and a sequence number in
// recording order (the tape). backward() collects the nodes reachable from the root
// and runs them newest-first, accumulating into each leaf's .grad(). Nodes are owned
// by the outputs that need them, so a graph is freed when its outputs go away,
// whether or not backward ran. Both the reverse pass and the freeing of a graph walk
// it with explicit work lists, never recursion: a chain of 10⁶ nodes needs no more
// stack than a chain of 10.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/tensor.h"

namespace tg {

struct VariableImpl;
class Variable;

using GradHook = std::function<void(const Tensor& grad)>;
// A backward closure: gradient of the output in, one gradient per input out (an
// undefined Tensor where needs[i] is false or the input gets no gradient).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad, const std::vector<bool>& needs)>;

struct Node {
  std::string name;                         // op name, for error messages and debugging
  uint64_t seq = 0;                         // position on the tape
  std::vector<Shape> input_shapes;          // the forward inputs' shapes, kept only under DetectAnomaly
  std::vector<std::shared_ptr<Node>> next;  // per input: its node (null if it needs no gradient)
  BackwardFn backward;                      // empty for a leaf's accumulator
  std::weak_ptr<VariableImpl> leaf;         // set for a leaf's gradient accumulator
  std::vector<GradHook> hooks;              // observe the output's gradient
  Shape out_shape;                          // shape the incoming gradient must have
  DType out_dtype = kFloat32;

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the nodes only this one owns without recursion, so a graph of any depth
  // is destroyed with a small stack.
  ~Node();
};

struct VariableImpl {
  Tensor data;
  Tensor grad;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;      // the op that made this variable (non-leaf)
  std::shared_ptr<Node> accumulator;  // a leaf's gradient sink, made on first use
  std::string name;
};

class Variable {
 public:
  Variable() = default;
  Variable(Tensor data, bool requires_grad = false);  // NOLINT: a tensor is a constant variable

  bool defined() const { return impl_ != nullptr; }
  const Tensor& data() const { return impl_->data; }
  Tensor& data() { return impl_->data; }
  // The accumulated gradient (undefined until a backward reaches this variable).
  const Tensor& grad() const { return impl_->grad; }
  void set_grad(const Tensor& g) { impl_->grad = g; }
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  Variable& set_requires_grad(bool r);
  bool is_leaf() const { return !impl_->grad_fn; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  const std::string& name() const { return impl_->name; }
  void set_name(const std::string& n) { impl_->name = n; }

  // Reverse pass from this variable. Without an argument the variable must hold one
  // element (the gradient is 1); otherwise pass the gradient of the same shape.
  void backward() const;
  void backward(const Tensor& grad) const;

  Variable detach() const;  // same data, no history, requires_grad = false
  void zero_grad();         // drops the gradient (like torch's set_to_none)
  // fn(grad) runs when this variable's gradient is computed during backward.
  void register_hook(GradHook fn);

  // Tensor conveniences.
  const Shape& shape() const { return data().shape(); }
  int64_t dim() const { return data().dim(); }
  int64_t size(int64_t d) const { return data().size(d); }
  int64_t numel() const { return data().numel(); }
  DType dtype() const { return data().dtype(); }
  Device device() const { return data().device(); }
  double item() const { return data().item(); }

  // The node that receives this variable's gradient: grad_fn, or the leaf's accumulator.
  std::shared_ptr<Node> gradient_edge() const;
  const std::shared_ptr<VariableImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<VariableImpl> impl_;
};

// Recording switch. GradMode::enabled() is thread-local; NoGrad turns it off in a scope.
struct GradMode {
  static bool enabled();
  static void set_enabled(bool on);
};

class NoGrad {
 public:
  NoGrad() : prev_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGrad() { GradMode::set_enabled(prev_); }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool prev_;
};

// Records an op: returns a Variable holding `out` that, when grad mode is on and some
// input requires a gradient, carries a Node running `backward`. Ops call this once.
Variable record(const char* name, Tensor out, const std::vector<Variable>& inputs, BackwardFn backward);

// Runs the reverse pass from `roots` with the given gradients (one per root).
void run_backward(const std::vector<Variable>& roots, const std::vector<Tensor>& grads);

}  // namespace tg
