#pragma once
// The activations by name: one table that the examples' --activation flags, the tests,
// the benchmarks and the docs read. Adding an activation is its own files plus one
// row in registry.cpp.
//
//   auto act = make_activation("vecgelu", /*spatial=*/true);   // a fresh module
//   for (const ActivationInfo& a : activation_registry()) ...
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace tg {

struct ActivationInfo {
  std::string name;     // the --activation name: "gelu", "vecgelu", …
  std::string summary;  // one line for help texts and tables
  bool vector;          // a vector activation (gates whole vectors, see grouping.h)
  bool stochastic;      // draws random numbers in training mode
  // A fresh module. `spatial`: it follows a conv (N,C,H,W; vector activations use 4×4
  // blocks per channel and per-channel parameters), else a linear layer (N,F; the
  // feature vector is the vector). `channels`: C or F, for per-channel parameters.
  std::function<std::shared_ptr<Module>(bool spatial, int64_t channels)> make;
};

// Every activation of the library, in a fixed order.
const std::vector<ActivationInfo>& activation_registry();

// The row named `name`; tg::Error listing every name when there is none.
const ActivationInfo& activation_info(const std::string& name);

// activation_info(name).make(spatial, channels).
std::shared_ptr<Module> make_activation(const std::string& name, bool spatial = false, int64_t channels = 1);

// "relu, leaky_relu, …": every name, comma-separated, for help texts.
std::string activation_names();

}  // namespace tg
