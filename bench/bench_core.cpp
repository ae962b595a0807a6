// Core benchmarks, reported as ratios measured in one run:
//  - matmul 1024³ float32 through tg::matmul vs Eigen's own GEMM on the same matrices
//    (target: ≥ 80% of Eigen's rate);
//  - unary and binary elementwise ops on 16M floats vs a plain copy loop (GB/s counting
//    bytes read + written; one pass, no temporaries).
#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <chrono>
#include <fmt/core.h>
#include <omp.h>

#include "core/ops.h"
#include "core/parallel.h"
#include "core/random.h"
#include "bench/timing.h"

using namespace tg;
using namespace tg::ops;

int main(int argc, char** argv) {
  CLI::App app{"tapegrad core benchmarks (matmul vs Eigen, elementwise vs copy)"};
  int threads = get_num_threads(), reps = 5;
  int64_t n = 1024, elems = 16 << 20;
  app.add_option("--threads", threads, "CPU threads")->capture_default_str();
  app.add_option("--reps", reps, "repetitions (best time is reported)")->capture_default_str();
  app.add_option("--n", n, "matmul size n (n×n by n×n)")->capture_default_str();
  app.add_option("--elems", elems, "elements for the elementwise ops")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  Tensor a = randn({n, n}), b = randn({n, n});
  const double flops = 2.0 * n * n * n;
  const double t_ours = best_seconds(reps, [&] { matmul(a, b); });
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const M> ea(a.data<float>(), n, n), eb(b.data<float>(), n, n);
  M ec(n, n);
  const double t_eigen = best_seconds(reps, [&] { ec.noalias() = ea * eb; });
  fmt::print("threads {}\n", threads);
  fmt::print("{:<34} {:>10} {:>10} {:>8}\n", "benchmark", "ours", "reference", "ratio");
  fmt::print("{:<34} {:>10.1f} {:>10.1f} {:>8.2f}   GFLOP/s (Eigen GEMM)\n", fmt::format("matmul {}^3 f32", n),
             flops / t_ours * 1e-9, flops / t_eigen * 1e-9, t_eigen / t_ours);

  Tensor x = randn({elems}), y = randn({elems}), out = empty({elems});
  const float* xp = x.data<float>();
  float* op = out.data<float>();
  const double t_copy = best_seconds(reps, [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < elems; ++i) op[i] = xp[i];
  });
  const double copy_gbs = 2.0 * elems * 4 / t_copy * 1e-9;
  auto report = [&](const char* name, double bytes, double t) {
    fmt::print("{:<34} {:>10.1f} {:>10.1f} {:>8.2f}   GB/s (copy loop)\n", name, bytes / t * 1e-9, copy_gbs,
               (bytes / t * 1e-9) / copy_gbs);
  };
  report("unary exp, 16M f32", 2.0 * elems * 4, best_seconds(reps, [&] { exp(x); }));
  report("unary neg, 16M f32", 2.0 * elems * 4, best_seconds(reps, [&] { neg(x); }));
  report("binary add, 16M f32", 3.0 * elems * 4, best_seconds(reps, [&] { add(x, y); }));
  report("binary mul broadcast row, 16M f32", 2.0 * elems * 4,
         best_seconds(reps, [&] { mul(x.view({elems / 1024, 1024}), y.narrow(0, 0, 1024)); }));
  return 0;
}
