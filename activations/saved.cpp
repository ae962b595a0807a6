#include "activations/saved.h"

namespace tg {

Variable record_activation(const char* name, Tensor out, const std::vector<Variable>& inputs,
                           std::vector<Tensor> saved, SavedBackwardFn backward) {
  return record(name, std::move(out), inputs, SavedBackward{std::move(saved), std::move(backward)});
}

const std::vector<Tensor>& saved_tensors(const Variable& y) {
  TG_CHECK(y.defined() && y.grad_fn(), "saved_tensors",
           "the variable has no grad_fn (made under NoGrad, or no input requires a gradient)");
  const auto* sb = y.grad_fn()->backward.target<SavedBackward>();
  TG_CHECK(sb != nullptr, "saved_tensors", "the node '{}' was not recorded by an activation", y.grad_fn()->name);
  return sb->saved;
}

size_t saved_bytes(const Variable& y) {
  size_t n = 0;
  for (const Tensor& t : saved_tensors(y)) n += t.nbytes();
  return n;
}

}  // namespace tg
