#pragma once
// gradcheck: compares an op's hand-written backward with central differences.
//
// Requires float64 inputs. With a random upstream gradient u (seeded), the
// analytic gradient of ⟨f(x), u⟩ from backward() is compared against
// (⟨f(x+εe_j), u⟩ − ⟨f(x−εe_j), u⟩)/2ε for every element j of every input, by
// |analytic − numeric| ≤ atol + rtol·|numeric|. Gradient buffers are pre-filled with
// a sentinel (backward must accumulate onto it, not overwrite it) and every new
// allocation is NaN-poisoned during the analytic passes, so an unwritten element
// fails. A second backward must accumulate (sentinel + 2·gradient).
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace tg {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;
  bool check_accumulation = true;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // names the input, the element and both values on failure
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Variable(const std::vector<Variable>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace tg
