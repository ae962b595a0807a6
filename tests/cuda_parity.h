#pragma once
// Shared by the CUDA parity tests: the CPU is the oracle for the GPU. A case that
// needs a device starts with `if (!have_gpu()) return;`: where there is none,
// have_gpu() prints "skipped: no CUDA device", which every discovered test's
// SKIP_REGULAR_EXPRESSION matches (CMakeLists.txt), so ctest reports the case as
// skipped ("Not Run") instead of passed.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/device.h"
#include "core/random.h"
#include "core/tensor.h"

namespace tg::testing {

inline const double kNaN = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();

inline bool have_gpu() {
  if (cuda_device_count() > 0) return true;
  MESSAGE("skipped: no CUDA device");
  return false;
}

// gpu (a CUDA tensor) equals cpu within tolerances scaled to the dtype: |g - c| <=
// atol + rtol * |c|, rtol = k * epsilon. NaN must meet NaN, and infinities the same
// infinity. `scale` widens atol for results that are sums of many terms.
inline void check_parity(const Tensor& gpu, const Tensor& cpu, const std::string& what, double k = 8, double scale = 1) {
  INFO(what);
  REQUIRE(gpu.device().is_cuda());
  REQUIRE(cpu.device().is_cpu());
  REQUIRE(shape_str(gpu.shape()) == shape_str(cpu.shape()));
  REQUIRE(gpu.dtype() == cpu.dtype());
  const double eps = gpu.dtype() == kFloat32 ? 1.1920929e-7 : gpu.dtype() == kFloat64 ? 2.220446e-16 : 0;
  const auto g = gpu.to_vector<double>(), c = cpu.to_vector<double>();
  int64_t bad = -1;
  for (size_t i = 0; i < g.size() && bad < 0; ++i) {
    if (std::isnan(c[i]) || std::isnan(g[i])) {
      if (!(std::isnan(c[i]) && std::isnan(g[i]))) bad = (int64_t)i;
    } else if (std::isinf(c[i]) || std::isinf(g[i])) {
      if (g[i] != c[i]) bad = (int64_t)i;
    } else if (std::abs(g[i] - c[i]) > k * eps * (scale + std::abs(c[i]))) {
      bad = (int64_t)i;
    }
  }
  if (bad >= 0) FAIL_CHECK("element " << bad << ": gpu " << g[bad] << " vs cpu " << c[bad]);
}

inline Tensor gpu(const Tensor& t) { return t.to(Device::cuda()); }

// Random data with a few special values at fixed places.
inline Tensor data(const Shape& s, DType dt, uint64_t seed, bool specials = false) {
  Generator g(seed);
  Tensor t = randn(s, kFloat64, &g);
  if (specials && t.numel() >= 8) {
    Tensor f = t.view({-1});
    f.narrow(0, 0, 1).fill_(kNaN);
    f.narrow(0, 1, 1).fill_(kInf);
    f.narrow(0, 2, 1).fill_(-kInf);
    f.narrow(0, 3, 1).fill_(0.0);
    f.narrow(0, 4, 1).fill_(-0.0);
  }
  return t.to(dt);
}

}  // namespace tg::testing
