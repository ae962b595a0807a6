// Activation benchmarks on one N×C×H×W float32 tensor (default 32×64×56×56):
// forward and backward ns/element and the bytes each activation saves for backward
// (measured from the recorded node, activations/saved.h), beside the memory-traffic
// floor of plain loops: a copy (read 1, write 1: a forward's minimum traffic) and a
// 2-in-1-out loop (a backward's). bench/pytorch/bench_activations.py measures
// PyTorch's own activations (and the original VecGELU form) on the same shape; given
// its --json output (--torch PATH), the last column is our forward+backward time over
// PyTorch's. Both sides time alike: one warm-up run, then the best of --reps (warm
// caches), flush-denormal on. bench/compare_activations.sh runs both in one go.
// f+b/floor divides by the floors timed in the same rounds as the row's forward and
// backward (bench/timing.h, interleaved_best); the floor line above the table is the
// floors timed alone first.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fmt/core.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <omp.h>

#include "activations/activations.h"
#include "core/parallel.h"
#include "core/random.h"
#include "bench/timing.h"

using namespace tg;

int main(int argc, char** argv) {
  CLI::App app{"tapegrad activation benchmarks: forward/backward ns per element, bytes saved for backward"};
  int threads = get_num_threads(), reps = 3;
  std::vector<int64_t> shape{32, 64, 56, 56};
  std::string filter, torch_json;
  app.add_option("--threads", threads, "CPU threads")->capture_default_str();
  app.add_option("--reps", reps, "repetitions (best time is reported)")->capture_default_str();
  app.add_option("--shape", shape, "N C H W")->expected(4)->capture_default_str();
  app.add_option("--filter", filter, "only activations whose name contains this");
  app.add_option("--torch", torch_json, "JSON from bench/pytorch/bench_activations.py --json: adds a ratio column")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);
  nlohmann::json torch_ns;
  if (!torch_json.empty()) {
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(torch_json));
    torch_ns = j.at("ns_per_element");
    fmt::print("PyTorch {} at {} threads, from {}\n", j.at("torch").get<std::string>(), j.at("threads").get<int>(),
               torch_json);
  }

  Generator gen(1);
  Tensor xt = randn(shape, kFloat32, &gen), g = randn(shape, kFloat32, &gen);
  const int64_t n = xt.numel();
  Variable x(xt, true);
  Variable prelu_w(full({shape[1]}, 0.25), true), sigma(full({1}, 1.0), true);

  // Memory-traffic floors.
  Tensor out = empty_like(xt);
  const FloorPasses floors = floor_passes(xt.data<float>(), g.data<float>(), out.data<float>(), n);
  const double t_copy = best_seconds(reps, floors.copy), t_2in = best_seconds(reps, floors.two_in);
  const double ns = 1e9 / (double)n;
  fmt::print("threads {}, shape {}, {} elements, float32, best of {} after a warm-up, flush-denormal {}\n", threads,
             shape_str(shape), n, reps, flush_denormal() ? "on" : "off");
  fmt::print("floor, alone: copy (1 in, 1 out) {:.3f} ns/elem; 2 in, 1 out {:.3f} ns/elem (f+b/floor: the floors timed\n"
             "beside each row)\n\n",
             t_copy * ns, t_2in * ns);

  using Fn = std::function<Variable()>;
  const std::vector<std::pair<std::string, Fn>> acts = {
      {"relu", [&] { return relu(x); }},
      {"leaky_relu", [&] { return leaky_relu(x, 0.01); }},
      {"prelu (per channel)", [&] { return prelu(x, prelu_w); }},
      {"elu", [&] { return elu(x); }},
      {"selu", [&] { return selu(x); }},
      {"celu", [&] { return celu(x); }},
      {"gelu", [&] { return gelu(x); }},
      {"gelu_tanh", [&] { return gelu(x, "tanh"); }},
      {"silu", [&] { return silu(x); }},
      {"mish", [&] { return mish(x); }},
      {"softplus", [&] { return softplus(x); }},
      {"sigmoid", [&] { return sigmoid(x); }},
      {"tanh", [&] { return tanh(x); }},
      {"hardsigmoid", [&] { return hardsigmoid(x); }},
      {"hardswish", [&] { return hardswish(x); }},
      {"hardgelu", [&] { return hardgelu(x); }},
      {"hardgelu_clamped", [&] { return hardgelu_clamped(x); }},
      {"stochastic_gelu (train)", [&] { return stochastic_gelu(x, true, &gen); }},
      {"vec_gelu blocks(4)", [&] { return vec_gelu(x, VectorGrouping::blocks(4)); }},
      {"vec_gelu channels", [&] { return vec_gelu(x, VectorGrouping::channels()); }},
      {"vec_gelu last_dim", [&] { return vec_gelu(x, VectorGrouping::last_dim()); }},
      {"prob_vec_gelu blocks(4) (train)", [&] { return probabilistic_vec_gelu(x, VectorGrouping::blocks(4), true, &gen); }},
      {"vec_erf blocks(4)", [&] { return vec_erf(x, sigma, VectorGrouping::blocks(4)); }},
  };
  fmt::print("{:<34} {:>10} {:>10} {:>14} {:>8} {:>10} {:>10}\n", "activation", "fwd ns/el", "bwd ns/el", "saved bytes",
             "saved/in", "f+b/floor", "f+b/torch");
  for (const auto& [name, f] : acts) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    Variable y = f();
    const auto& node = y.grad_fn();
    const std::vector<bool> needs(node->next.size(), true);
    // Forward, the node's backward alone (no gradient accumulation into the leaf) and the
    // two floors in the same rounds: f+b/floor divides times taken side by side.
    const auto [tf, copy, tb, two_in] = interleaved_best(
        reps, [&] { f(); }, floors.copy, [&] { node->backward(g, needs); }, floors.two_in);
    const size_t saved = saved_bytes(y);
    // VecGELU blocks(4) is compared with the original PyTorch form.
    const std::string peer = name == "vec_gelu blocks(4)" ? "vec_gelu blocks(4) original form" : name;
    const std::string ratio = torch_ns.contains(peer) ? fmt::format("{:.2f}", (tf + tb) * ns / (torch_ns[peer].at("fwd").get<double>() +
                                                                                               torch_ns[peer].at("bwd").get<double>()))
                                                     : "-";
    fmt::print("{:<34} {:>10.3f} {:>10.3f} {:>14} {:>8.3f} {:>10.2f} {:>10}\n", name, tf * ns, tb * ns, saved,
               (double)saved / (double)xt.nbytes(), (tf + tb) / (copy + two_in), ratio);
  }
  return 0;
}
