#include "core/parallel.h"

#include <Eigen/Core>
#include <cstdlib>
#include <omp.h>

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
}  // namespace

void set_num_threads(int n) {
  TG_CHECK(n > 0, "set_num_threads", "thread count must be positive, got {}", n);
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tg
