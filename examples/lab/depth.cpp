// Writes depth_statistics (depth.h) for the activations of the self-normalization study.
#include <fmt/os.h>

#include "examples/lab/depth.h"
#include "examples/lab/lab.h"

namespace tg::lab {

void run_depth(const DepthOptions& o) {
  auto f = fmt::output_file(o.out + "/depth.csv");
  f.print("activation,layer,mean,var,grad_norm\n");
  for (const std::string name : {"selu", "elu", "silu", "gelu", "gelu_tanh", "relu", "tanh"}) {
    const DepthStats s = depth_statistics(name, o.layers, o.width, o.batch, o.seed);
    for (int l = 0; l < o.layers; ++l)
      f.print("{},{},{},{},{}\n", name, l + 1, s.mean[l], s.var[l], s.grad_norm[l]);
    fmt::print("depth: {:<10} layer {}: mean {:+.3f}, variance {:.3g}; gradient norm layer 1 / layer {}: {:.3g}\n",
               name, o.layers, s.mean.back(), s.var.back(), o.layers, s.grad_norm.front() / s.grad_norm.back());
  }
}

}  // namespace tg::lab
