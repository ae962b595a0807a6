#pragma once
// Linear: y = x·Wᵀ + b, with W [out, in] and b [out] as torch.nn.Linear, initialized
// as torch does (kaiming_uniform with a = √5, i.e. bound 1/√in, for W and b).
#include "layers/module.h"

namespace tg {

// Functional form: x [..., in], weight [out, in], bias [out] or undefined.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = Variable());

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, DType dtype = kFloat32);
  Variable forward(const Variable& x) override;
  std::string name() const override { return "Linear"; }
  std::string extra_repr() const override;
  Variable weight;
  Variable bias;  // undefined without bias
  const int64_t in_features, out_features;
};

}  // namespace tg
