#pragma once
// What an activation keeps for its backward, made inspectable.
//
// Every activation records its node through record_activation(): the backward
// closure receives the saved tensors as an argument instead of capturing them, so
// the list held by the node is exactly what the backward can read. saved_tensors(y)
// and saved_bytes(y) look into the node that made y, which is how tests and the
// benchmark measure the "in-place gradient" property (output-only saving) from the
// real saved tensors rather than from a table.
#include <cstddef>
#include <functional>
#include <vector>

#include "autograd/variable.h"

namespace tg {

using SavedBackwardFn = std::function<std::vector<Tensor>(const Tensor& grad, const std::vector<bool>& needs,
                                                          const std::vector<Tensor>& saved)>;

// The callable stored in an activation's Node::backward.
struct SavedBackward {
  std::vector<Tensor> saved;
  SavedBackwardFn fn;
  std::vector<Tensor> operator()(const Tensor& grad, const std::vector<bool>& needs) const {
    return fn(grad, needs, saved);
  }
};

// record() with an explicit list of saved tensors (see above).
Variable record_activation(const char* name, Tensor out, const std::vector<Variable>& inputs,
                           std::vector<Tensor> saved, SavedBackwardFn backward);

// The tensors the node that made y keeps for backward. Requires that y was made by an
// activation with grad mode on and an input requiring a gradient; otherwise throws.
const std::vector<Tensor>& saved_tensors(const Variable& y);
// Sum of nbytes() over saved_tensors(y).
size_t saved_bytes(const Variable& y);

}  // namespace tg
