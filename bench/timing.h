#pragma once
// Shared by the benchmarks: the best wall time of `reps` runs after one warm-up.
#include <algorithm>
#include <chrono>

template <class F>
double best_seconds(int reps, F f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
