#pragma once
// --activation NAME → a fresh activation module. `spatial` tells whether it follows a
// conv (N,C,H,W: vector activations use 4×4 blocks per channel) or a linear layer
// (N,F: the feature vector is the vector).
#include <memory>
#include <string>

#include "activations/activations.h"

namespace tg {

inline const char* activation_names() {
  return "relu, leaky_relu, elu, selu, celu, gelu, gelu_tanh, silu, mish, softplus, tanh, sigmoid, hardswish, "
         "hardgelu, stochastic_gelu, vecgelu";
}

inline std::shared_ptr<Module> make_activation(const std::string& name, bool spatial) {
  if (name == "relu") return std::make_shared<ReLU>();
  if (name == "leaky_relu") return std::make_shared<LeakyReLU>();
  if (name == "elu") return std::make_shared<ELU>();
  if (name == "selu") return std::make_shared<SELU>();
  if (name == "celu") return std::make_shared<CELU>();
  if (name == "gelu") return std::make_shared<GELU>();
  if (name == "gelu_tanh") return std::make_shared<GELU>("tanh");
  if (name == "silu") return std::make_shared<SiLU>();
  if (name == "mish") return std::make_shared<Mish>();
  if (name == "softplus") return std::make_shared<Softplus>();
  if (name == "tanh") return std::make_shared<Tanh>();
  if (name == "sigmoid") return std::make_shared<Sigmoid>();
  if (name == "hardswish") return std::make_shared<Hardswish>();
  if (name == "hardgelu") return std::make_shared<HardGELU>();
  if (name == "stochastic_gelu") return std::make_shared<StochasticGELU>();
  if (name == "vecgelu")
    return std::make_shared<VecGELU>(spatial ? VectorGrouping::blocks(4) : VectorGrouping::last_dim());
  throw Error("--activation: unknown activation '" + name + "' (choose from " + activation_names() + ")");
}

}  // namespace tg
