#pragma once
// Self-normalization: Gaussian input through a deep MLP without normalization layers,
// LeCun-normal weights (variance 1/fan_in), no biases, one activation after every
// layer. Forward: each layer's activation mean and variance (over the batch and the
// units); backward of L = Σ h_L·r / √N with a fixed Gaussian r: ‖∂L/∂W_l‖ per layer.
// SELU's λ, α make (mean, variance) = (0, 1) an attracting fixed point of that map;
// ReLU halves the second moment at every layer (E[relu(z)²] = E[z²]/2).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "activations/registry.h"
#include "core/random.h"
#include "layers/init.h"
#include "layers/linear.h"

namespace tg::lab {

struct DepthStats {
  std::vector<double> mean, var, grad_norm;  // one per layer, input side first
};

inline DepthStats depth_statistics(const std::string& activation, int layers, int64_t width, int64_t batch,
                                   uint64_t seed) {
  Generator gen(seed);
  std::vector<Linear> linears;
  std::vector<std::shared_ptr<Module>> acts;
  for (int l = 0; l < layers; ++l) {
    linears.emplace_back(width, width, /*bias=*/false);
    init::lecun_normal_(linears.back().weight.data(), &gen);
    acts.push_back(make_activation(activation, false, width));
  }
  Variable h(randn({batch, width}, kFloat32, &gen));
  DepthStats s;
  for (int l = 0; l < layers; ++l) {
    h = (*acts[l])(linears[l](h));
    const double m = ops::mean(h.data()).item();
    s.mean.push_back(m);
    s.var.push_back(ops::mean(ops::square(ops::sub(h.data(), m))).item());
  }
  Variable r(randn({batch, width}, kFloat32, &gen));
  sum(mul(h, r)).backward();
  const double scale = 1 / std::sqrt(static_cast<double>(batch));
  for (int l = 0; l < layers; ++l)
    s.grad_norm.push_back(std::sqrt(ops::sum(ops::square(linears[l].weight.grad())).item()) * scale);
  return s;
}

}  // namespace tg::lab
