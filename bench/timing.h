#pragma once
// Shared by the benchmarks: the best wall time of `reps` runs after one warm-up.
#include <algorithm>
#include <chrono>
#include <cstdint>

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

// The memory-traffic floors of one elementwise pass over n floats, best of `reps`, in
// seconds: a copy (1 in, 1 out: a forward's minimum traffic) and a 2-in-1-out loop (a
// backward's).
struct MemoryFloors {
  double copy, two_in;
};

inline MemoryFloors memory_floors(int reps, const float* x, const float* g, float* out, int64_t n) {
  const double copy = best_seconds(reps, [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = x[i];
  });
  const double two_in = best_seconds(reps, [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * g[i];
  });
  return {copy, two_in};
}
