#pragma once
// Flatten, as torch.nn.Flatten: merges dims start_dim..end_dim (by default all but
// the batch dim) into one, a view when the strides allow it.
#include "layers/module.h"

namespace tg {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  Variable forward(const Variable& x) override;
  std::string name() const override { return "Flatten"; }
  std::string extra_repr() const override { return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim); }
  const int64_t start_dim, end_dim;
};

}  // namespace tg
