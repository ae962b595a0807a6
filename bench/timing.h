#pragma once
// Shared by the benchmarks: the best wall time of `reps` runs after one warm-up.
#include <algorithm>
#include <array>
#include <functional>
#include <chrono>
#include <cstdint>
#include <omp.h>

#include "core/kernel.h"  // tg::cpu::Vec, packet_run, kStreamBytes

// Best times of several functions timed in interleaved rounds after one warm-up round:
// round r runs each of them once, in order, so that a slowdown of the shared machine
// that comes and goes over seconds reaches all of them alike (the ratios of the benches
// divide times taken in the same rounds).
template <class... F>
std::array<double, sizeof...(F)> interleaved_best(int reps, F&&... f) {
  (f(), ...);
  std::array<double, sizeof...(F)> best;
  best.fill(1e30);
  for (int r = 0; r < reps; ++r) {
    size_t i = 0;
    const auto time = [&](auto& g) {
      const auto t0 = std::chrono::steady_clock::now();
      g();
      best[i] = std::min(best[i], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      ++i;
    };
    (time(f), ...);
  }
  return best;
}

template <class F>
double best_seconds(int reps, F&& f) {
  return interleaved_best(reps, f)[0];
}

// The memory-traffic floors of one elementwise pass over n floats: a copy (1 in, 1 out:
// a forward's minimum traffic) and a 2-in-1-out loop (a backward's). They run the
// library's own packet loop (tg::cpu::packet_run, the one vmap1/vmap2 use) with the
// threads' ranges split alike, so an output large enough for streaming stores is
// streamed here too, and a kernel is never measured faster than its floor merely for
// writing memory a better way.
struct FloorPasses {
  std::function<void()> copy, two_in;
};
inline FloorPasses floor_passes(const float* x, const float* g, float* out, int64_t n) {
  using V = tg::cpu::Vec<float>;
  const bool stream = n * (int64_t)sizeof(float) >= tg::cpu::kStreamBytes;
  const auto pass = [=](auto f) {
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
  return {[=] { pass([&](int64_t i, int k) { return at(x, i, k); }); },
          [=] { pass([&](int64_t i, int k) { return at(x, i, k) * at(g, i, k); }); }};
}
