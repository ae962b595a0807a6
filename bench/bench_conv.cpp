// Conv2d 3×3, 64→64, padding 1, input 32×64×56×56 float32: forward + input gradient +
// weight gradient per iteration, ours against PyTorch (bench/pytorch/bench_conv.py) at
// the same thread count, measured in one run. Prints both medians and the ratio.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/random.h"
#include "layers/conv.h"

using namespace tg;

// Runs the PyTorch peer and returns its median seconds, or a negative value when torch
// is not importable or the script fails.
static double run_torch(const std::string& script, int threads, int iters, int64_t batch) {
  const std::string cmd = fmt::format("python3 -W ignore {} --threads {} --iters {} --batch {} 2>/dev/null", script,
                                      threads, iters, batch);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[512];
  double median = -1;
  while (fgets(line, sizeof line, p)) {
    std::fputs(line, stdout);
    std::sscanf(line, "median_s %lf", &median);
  }
  return pclose(p) == 0 ? median : -1;
}

int main(int argc, char** argv) {
  CLI::App app{"Conv2d 3x3 64->64 forward + both gradients: tapegrad vs PyTorch"};
  int threads = 2, iters = 5;
  int64_t batch = 32;
  bool skip_torch = false;
  std::string script = (std::filesystem::path(TG_SOURCE_DIR) / "bench" / "pytorch" / "bench_conv.py").string();
  app.add_option("--threads", threads, "CPU threads for both frameworks");
  app.add_option("--iters", iters, "timed iterations (after one warm-up)")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "batch size");
  app.add_option("--torch-script", script, "the PyTorch peer");
  app.add_flag("--no-torch", skip_torch, "measure tapegrad only");
  CLI11_PARSE(app, argc, argv);

  set_num_threads(threads);
  Conv2d conv(64, 64, 3, 1, 1);
  Variable x(randn({batch, 64, 56, 56}), true);
  Tensor g = randn({batch, 64, 56, 56});
  std::vector<double> times;
  for (int i = 0; i <= iters; ++i) {
    x.zero_grad();
    conv.zero_grad();
    const auto t0 = std::chrono::steady_clock::now();
    conv(x).backward(g);
    const auto t1 = std::chrono::steady_clock::now();
    if (i > 0) times.push_back(std::chrono::duration<double>(t1 - t0).count());  // the first one warms up
  }
  std::sort(times.begin(), times.end());
  const double ours = times[times.size() / 2];
  const double flops = 3 * 2.0 * batch * 64 * 64 * 9 * 56 * 56;
  fmt::print("tapegrad: median {:.4f} s ({:.1f} GFLOP/s), {} threads\n", ours, flops / ours * 1e-9, threads);
  const double torch = skip_torch ? -1 : run_torch(script, threads, iters, batch);
  fmt::print("\n{:<10} {:>10} {:>10} {:>8}\n", "", "tapegrad", "pytorch", "ratio");
  if (torch > 0) {
    fmt::print("{:<10} {:>9.4f}s {:>9.4f}s {:>7.2f}x\n", "conv3x3", ours, torch, ours / torch);
  } else {
    fmt::print("{:<10} {:>9.4f}s {:>10} {:>8}\n", "conv3x3", ours, "n/a", "n/a");
  }
  return 0;
}
