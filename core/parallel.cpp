#include "core/parallel.h"

#include <Eigen/Core>
#include <atomic>
#include <cstdlib>
#include <omp.h>
#include <optional>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TG_HAVE_MXCSR 1
#endif

#include "core/error.h"

namespace tg {

namespace {
int initial_threads() {
  for (const char* var : {"TG_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  return omp_get_num_procs();
}

// Applies the environment's thread count before main() so that every kernel sees it.
const int g_init = [] {
  Eigen::initParallel();  // Eigen's static GEMM blocking sizes, before any concurrent use
  set_num_threads(initial_threads());
  return 0;
}();

#ifdef TG_HAVE_MXCSR
std::atomic<bool> g_flush_denormal{true};
// MXCSR bits: flush-to-zero (results) and denormals-are-zero (inputs).
constexpr unsigned kFtzDaz = 0x8000u | 0x0040u;
#else
std::atomic<bool> g_flush_denormal{false};
#endif
}  // namespace

void set_num_threads(int n) {
  TG_CHECK(n > 0, "set_num_threads", "thread count must be positive, got {}", n);
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

#ifdef TG_HAVE_MXCSR
bool set_flush_denormal(bool on) {
  g_flush_denormal.store(on, std::memory_order_relaxed);
  return true;
}

// Only the two mode bits are saved and restored: exception flags the work raised stay
// raised, as after any other call.
DenormalScope::DenormalScope() {
  if (!g_flush_denormal.load(std::memory_order_relaxed)) return;
  const unsigned csr = _mm_getcsr();
  saved_ = csr & kFtzDaz;
  if (saved_ != kFtzDaz) {
    _mm_setcsr(csr | kFtzDaz);
    set_ = true;
  }
}

DenormalScope::~DenormalScope() {
  if (set_) _mm_setcsr((_mm_getcsr() & ~kFtzDaz) | saved_);
}
#else
bool set_flush_denormal(bool) { return false; }
DenormalScope::DenormalScope() = default;
DenormalScope::~DenormalScope() = default;
#endif

bool flush_denormal() { return g_flush_denormal.load(std::memory_order_relaxed); }

namespace {
// Each pool thread's own scope while a TeamDenormalScope is open.
thread_local std::optional<DenormalScope> t_team_scope;
}  // namespace

TeamDenormalScope::TeamDenormalScope(bool needed) {
  if (!needed || !flush_denormal() || omp_in_parallel() || omp_get_max_threads() == 1) return;
  set_ = true;
#pragma omp parallel
  if (!t_team_scope) t_team_scope.emplace();
}

// libgomp reuses the same threads for a team of the same size, so the threads that
// set the mode restore it (a thread that did not take part has nothing to restore).
TeamDenormalScope::~TeamDenormalScope() {
  if (!set_) return;
#pragma omp parallel
  t_team_scope.reset();
}

}  // namespace tg
