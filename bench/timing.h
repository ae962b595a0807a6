#pragma once
// Shared by the benchmarks: the best wall time of `reps` runs after one warm-up.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <omp.h>

#include "core/kernel.h"  // tg::cpu::Vec, packet_run, kStreamBytes

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
// backward's). They run the library's own packet loop (tg::cpu::packet_run, the one
// vmap1/vmap2 use) with the threads' ranges split alike, so an output large enough for
// streaming stores is streamed here too, and a kernel is never measured faster than its
// floor merely for writing memory a better way.
struct MemoryFloors {
  double copy, two_in;
};

inline MemoryFloors memory_floors(int reps, const float* x, const float* g, float* out, int64_t n) {
  using V = tg::cpu::Vec<float>;
  const bool stream = n * (int64_t)sizeof(float) >= tg::cpu::kStreamBytes;
  const auto pass = [&](auto f) {
#pragma omp parallel
    {
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num(), chunk = (n + nt - 1) / nt;
      const int64_t b = std::min(n, t * chunk), e = std::min(n, b + chunk);
      tg::cpu::packet_run<float>(e - b, reinterpret_cast<char*>(out + b), sizeof(float), stream,
                                 [&](int64_t i, int k) { return f(b + i, k); });
    }
  };
  const auto at = [](const float* p, int64_t i, int k) {
    return V::load(reinterpret_cast<const char*>(p + i), sizeof(float), k);
  };
  const double copy = best_seconds(reps, [&] { pass([&](int64_t i, int k) { return at(x, i, k); }); });
  const double two_in = best_seconds(reps, [&] { pass([&](int64_t i, int k) { return at(x, i, k) * at(g, i, k); }); });
  return {copy, two_in};
}
