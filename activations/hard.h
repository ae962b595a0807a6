#pragma once
// Piecewise-polynomial activations (no special functions): Hardsigmoid, Hardswish,
// HardGELU and HardGELU's clamped inference form.
#include "layers/module.h"

namespace tg {

// clamp(x + 3, 0, 6)/6. Saves the output (0 < y < 1 ⇔ −3 < x < 3).
Variable hardsigmoid(const Variable& x);
// x·clamp(x + 3, 0, 6)/6. Saves the input.
Variable hardswish(const Variable& x);
// x·clamp(x + 1.5, 0, 3)/3 (NVIDIA's neural texture compression). Its minimum is
// −3/16 at x = −0.75. Saves the input.
Variable hardgelu(const Variable& x);
// clamp(hardgelu(x), −3/16, 3): the inference form with bounded output (even
// quantization buckets). Saves the input.
Variable hardgelu_clamped(const Variable& x);

class Hardsigmoid : public Module {
 public:
  Variable forward(const Variable& x) override { return hardsigmoid(x); }
  std::string name() const override { return "Hardsigmoid"; }
};

class Hardswish : public Module {
 public:
  Variable forward(const Variable& x) override { return hardswish(x); }
  std::string name() const override { return "Hardswish"; }
};

// HardGELU; with clamp_in_eval, eval() mode applies the clamped inference form.
class HardGELU : public Module {
 public:
  explicit HardGELU(bool clamp_in_eval = false) : clamp_in_eval(clamp_in_eval) {}
  Variable forward(const Variable& x) override {
    return clamp_in_eval && !is_training() ? hardgelu_clamped(x) : hardgelu(x);
  }
  std::string name() const override { return "HardGELU"; }
  const bool clamp_in_eval;
};

}  // namespace tg
