// Flush-to-zero and denormals-are-zero inside the library's compute (core/parallel.h):
// on by default in the kernels' OpenMP threads, in Eigen's GEMM threads and in the
// DataLoader's workers, off with set_flush_denormal(false), and the caller's mode is
// the same after a call as before it.
#include <doctest/doctest.h>

#include <xmmintrin.h>

#include <mutex>
#include <set>

#include "core/ops.h"
#include "core/parallel.h"
#include "data/dataloader.h"

using namespace tg;
using namespace tg::ops;

namespace {

constexpr unsigned kFtz = 0x8000u, kDaz = 0x0040u;
unsigned mode() { return _mm_getcsr() & (kFtz | kDaz); }

// Sets this thread's FTZ/DAZ bits for the test's lifetime, then restores them.
struct CallerMode {
  unsigned saved = _mm_getcsr();
  explicit CallerMode(unsigned bits) { _mm_setcsr((saved & ~(kFtz | kDaz)) | bits); }
  ~CallerMode() { _mm_setcsr(saved); }
};

// Runs at 2 threads for the test's lifetime.
struct TwoThreads {
  int saved = get_num_threads();
  TwoThreads() { set_num_threads(2); }
  ~TwoThreads() { set_num_threads(saved); }
};

// Counts the elements of a float32 tensor equal to v (front and back halves: the two
// threads' ranges of a parallel loop).
std::pair<int64_t, int64_t> count_halves(const Tensor& t, float v) {
  const std::vector<float> x = t.to_vector<float>();
  int64_t a = 0, b = 0;
  for (size_t i = 0; i < x.size(); ++i) (i < x.size() / 2 ? a : b) += x[i] == v;
  return {a, b};
}

// A dataset whose get() records its thread's FTZ/DAZ mode.
struct ModeProbe : Dataset {
  mutable std::mutex m;
  mutable std::set<unsigned> modes;
  int64_t size() const override { return 8; }
  Example get(int64_t, SampleRng&) const override {
    std::lock_guard<std::mutex> lock(m);
    modes.insert(mode());
    return {zeros({1}), 0};
  }
};

}  // namespace

TEST_CASE("denormals: flushed in the kernels' threads by default, the caller's mode is unchanged") {
  const TwoThreads threads;
  REQUIRE(flush_denormal());
  const int64_t n = 1 << 18;  // above the parallel grain: both threads take half
  for (unsigned caller : {0u, kDaz}) {
    const CallerMode cm(caller);
    // FTZ: 1e-30 · 1e-10 = 1e-40 is a denormal result, flushed to 0.
    const Tensor tiny = full({n}, 1e-30);
    CHECK(count_halves(tiny * 1e-10, 0.0f) == std::pair<int64_t, int64_t>{n / 2, n / 2});
    CHECK(mode() == caller);
    // DAZ: a denormal input reads as 0 (the input is made with the mode off).
    set_flush_denormal(false);
    const Tensor denormal = full({n}, 1e-40);
    set_flush_denormal(true);
    CHECK(count_halves(denormal * 1e20, 0.0f) == std::pair<int64_t, int64_t>{n / 2, n / 2});
    CHECK(mode() == caller);
  }
}

TEST_CASE("denormals: Eigen's GEMM threads flush too") {
  const TwoThreads threads;
  // [256, 64] · [64, 256]: products of 1e-20 · 1e-20 = 1e-40 sum to 6.4e-39 without
  // the flush (a denormal), 0 with it; large enough for Eigen to use both threads.
  const Tensor a = full({256, 64}, 1e-20), b = full({64, 256}, 1e-20);
  CHECK(count_halves(matmul(a, b), 0.0f) == std::pair<int64_t, int64_t>{256 * 128, 256 * 128});
  set_flush_denormal(false);
  CHECK(count_halves(matmul(a, b), 0.0f) == std::pair<int64_t, int64_t>{0, 0});
  set_flush_denormal(true);
  CHECK(mode() == 0u);
}

TEST_CASE("denormals: set_flush_denormal(false) keeps denormals in every thread") {
  const TwoThreads threads;
  const int64_t n = 1 << 18;
  CHECK(set_flush_denormal(false));
  CHECK_FALSE(flush_denormal());
  const Tensor y = full({n}, 1e-30) * 1e-10;
  const float expect = 1e-30f * 1e-10f;  // this thread's mode is off: the denormal
  REQUIRE(expect != 0.0f);
  CHECK(count_halves(y, expect) == std::pair<int64_t, int64_t>{n / 2, n / 2});
  set_flush_denormal(true);
}

TEST_CASE("denormals: DataLoader workers run with the mode on, the consumer's is unchanged") {
  auto probe = std::make_shared<ModeProbe>();
  DataLoaderOptions opt;
  opt.batch_size = 2;
  opt.num_workers = 2;
  DataLoader loader(probe, opt);
  int batches = 0;
  for (auto it = loader.begin(); it != loader.end(); ++it) ++batches;
  CHECK(batches == 4);
  CHECK(probe->modes == std::set<unsigned>{kFtz | kDaz});
  CHECK(mode() == 0u);
}
