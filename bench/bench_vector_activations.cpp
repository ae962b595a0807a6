// Vector activation benchmarks on one N×C×H×W float32 tensor (default 32×64×56×56):
// forward and backward ns per input element of VecGELU and the norm gates, external
// gates, group operations and per-vector dropout, with the bytes each saves for backward
// (from the recorded node, activations/saved.h, where the result comes from one
// activation node), beside the memory-traffic floor of plain loops: a copy (read 1,
// write 1) and a 2-in-1-out loop; "f+b/floor" divides forward + backward by the sum of
// the two, the floors timed in the same rounds as the row (bench/timing.h). Best of
// --reps after one warm-up, the same method for the floors and the rows.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <functional>
#include <omp.h>

#include "activations/activations.h"
#include "bench/timing.h"
#include "core/parallel.h"
#include "core/random.h"

using namespace tg;

int main(int argc, char** argv) {
  CLI::App app{"tapegrad vector activation benchmarks: forward/backward ns per element, bytes saved for backward"};
  int threads = get_num_threads(), reps = 3;
  std::vector<int64_t> shape{32, 64, 56, 56};
  std::string filter;
  app.add_option("--threads", threads, "CPU threads")->capture_default_str();
  app.add_option("--reps", reps, "repetitions (best time is reported)")->capture_default_str();
  app.add_option("--shape", shape, "N C H W")->expected(4)->capture_default_str();
  app.add_option("--filter", filter, "only rows whose name contains this");
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  Generator gen(1);
  Tensor xt = randn(shape, kFloat32, &gen), g = randn(shape, kFloat32, &gen);
  const int64_t n = xt.numel();
  Variable x(xt, true);
  using G = VectorGrouping;
  Variable bias_c(full({shape[1]}, -1.0), true), bias_1(full({1}, -1.0), true);
  Variable gates_c(randn(vector_shape(shape, G::channels(), "bench"), kFloat32, &gen), true);
  Variable gates_b(randn(vector_shape(shape, G::blocks(4), "bench"), kFloat32, &gen), true);
  auto sig = [](const Variable& t) { return sigmoid(t); };
  auto opts = [](bool normalize, const Variable& bias) {
    NormActivationOptions o;
    o.normalize = normalize;
    o.bias = bias;
    return o;
  };

  Tensor out = empty_like(xt);
  const FloorPasses floors = floor_passes(xt.data<float>(), g.data<float>(), out.data<float>(), n);
  const double t_copy = best_seconds(reps, floors.copy), t_2in = best_seconds(reps, floors.two_in);
  const double ns = 1e9 / (double)n;
  fmt::print("threads {}, shape {}, {} elements, float32, best of {}\n", threads, shape_str(shape), n, reps);
  fmt::print("floor, alone: copy (1 in, 1 out) {:.3f} ns/elem; 2 in, 1 out {:.3f} ns/elem (f+b/floor: the floors timed\n"
             "beside each row)\n\n",
             t_copy * ns, t_2in * ns);

  using Fn = std::function<Variable()>;
  const std::vector<std::pair<std::string, Fn>> rows = {
      {"vec_gelu blocks(4)", [&] { return vec_gelu(x, G::blocks(4)); }},
      {"vec_gelu channels", [&] { return vec_gelu(x, G::channels()); }},
      {"vec_gelu last_dim", [&] { return vec_gelu(x, G::last_dim()); }},
      {"squash blocks(4)", [&] { return norm_activation(x, G::blocks(4), NormPhi::sabour_squash()); }},
      {"squash channels", [&] { return norm_activation(x, G::channels(), NormPhi::sabour_squash()); }},
      {"squash last_dim", [&] { return norm_activation(x, G::last_dim(), NormPhi::sabour_squash()); }},
      {"escnn_squash blocks(4)",
       [&] { return norm_activation(x, G::blocks(4), NormPhi::escnn_squash(), opts(true, {})); }},
      {"n_relu blocks(4), bias per channel",
       [&] { return norm_activation(x, G::blocks(4), NormPhi::relu(), opts(true, bias_c)); }},
      {"n_sigmoid channels, bias",
       [&] { return norm_activation(x, G::channels(), NormPhi::sigmoid(), opts(true, bias_1)); }},
      {"norm gate, phi = gelu function, blocks(4)",
       [&] { return norm_activation(x, G::blocks(4), NormPhi::activation("gelu"), opts(false, {})); }},
      {"external gate blocks(4)", [&] { return external_gate(x, gates_b, G::blocks(4), sig); }},
      {"external gate channels", [&] { return external_gate(x, gates_c, G::channels(), sig); }},
      {"glu (dim 1, output half)", [&] { return glu(x, 1); }},
      {"swiglu (dim 1, output half)", [&] { return swiglu(x, 1); }},
      {"maxout blocks(4)", [&] { return maxout(x, G::blocks(4)); }},
      {"group_sort channels (fullsort)", [&] { return group_sort(x, G::channels()); }},
      {"maxmin (pairs of channels)", [&] { return group_sort_features(x, 2); }},
      {"norm_pool blocks(4)", [&] { return norm_pool(x, G::blocks(4)); }},
      {"norm_max_pool 2x2 (channels)", [&] { return norm_max_pool(x, 2); }},
      {"vector_dropout blocks(4) p=0.5", [&] { return vector_dropout(x, 0.5, G::blocks(4), true, &gen); }},
  };
  fmt::print("{:<42} {:>10} {:>10} {:>14} {:>8} {:>10}\n", "activation", "fwd ns/el", "bwd ns/el", "saved bytes",
             "saved/in", "f+b/floor");
  for (const auto& [name, f] : rows) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    Variable y = f();
    Tensor gy = randn(y.shape(), kFloat32, &gen);
    // The whole backward from y (composite rows run several nodes), without the leaf's
    // accumulation cost mattering: the gradients are dropped after each run. Forward,
    // backward and the two floors in the same rounds (bench/timing.h).
    const auto [tf, copy, tb, two_in] = interleaved_best(
        reps, [&] { f(); }, floors.copy,
        [&] {
          y.backward(gy);
          x.zero_grad();
        },
        floors.two_in);
    std::string saved = "-", ratio = "-";
    try {  // a composite row (glu) ends in a reshape, not an activation node
      const size_t bytes = saved_bytes(y);
      saved = fmt::format("{}", bytes);
      ratio = fmt::format("{:.3f}", (double)bytes / (double)xt.nbytes());
    } catch (const Error&) {
    }
    fmt::print("{:<42} {:>10.3f} {:>10.3f} {:>14} {:>8} {:>10.2f}\n", name, tf * ns, tb * ns, saved, ratio,
               (tf + tb) / (copy + two_in));
  }
  return 0;
}
