#pragma once
// The VecGELU gate s = P(d/2, r²/2) and ∂P/∂x, with a fast path for even d ≤ 64.
//
// For an integer a = d/2 the incomplete gamma function has a closed form,
//   Q(a, x) = 1 − P(a, x) = e^(−x)·Σ_{k<a} x^k/k!,   ∂P/∂x = e^(−x)·x^(a−1)/(a−1)!,
// so one exp and a short product give both: for d = 16 (4×4 blocks) about eight
// multiply-adds instead of the general series/continued-fraction machinery. Where P is
// small (x < a − 1.8√a, or x < 1) 1 − Q would cancel, so P comes from its power series
//   P(a, x) = e^(−x)·x^a/a!·Σ_{n≥0} x^n/((a+1)···(a+n)),
// all terms positive. Where 1 − Q is used, P ≥ ~0.004, so the cancellation costs at
// most ~250 ulps (< 6e-14 relative), checked against the general path in the tests.
// Outside x ∈ [1e-3, 600] (tiny or underflowing values) and for odd or larger d,
// special::gammainc_p_and_dx (log-space evaluation) is used.
// Host and device code (TG_HD, from special.h): the CUDA kernels call the same gate.
#include <cmath>
#include <cstdint>

#include "activations/special.h"

namespace tg::act {

// 1/k for k < 512: the loops below multiply instead of dividing.
struct Reciprocals {
  double v[512];
  constexpr Reciprocals() : v{} {
    for (int k = 1; k < 512; ++k) v[k] = 1.0 / k;
  }
};
inline constexpr Reciprocals kReciprocal{};

// 1/k from the table on the host; device code divides (a host table is not visible
// there). Both are the correctly rounded 1/k, so host and device gates agree.
TG_HD inline double reciprocal(int64_t k) {
#if defined(__CUDA_ARCH__)
  return 1.0 / (double)k;
#else
  return kReciprocal.v[k];
#endif
}

// p = P(d/2, x), dp = ∂P/∂x (d/2, x) for x ≥ 0.
TG_HD inline void chi_gate(int64_t d, double x, double& p, double& dp) {
  if (d % 2 == 0 && d <= 64 && x >= 1e-3 && x <= 600) {
    const int64_t a = d / 2;
    const double ex = ::exp(-x);
    double t = 1, sum = 1;  // t = x^k/k!
    for (int64_t k = 1; k < a; ++k) {
      t *= x * reciprocal(k);
      sum += t;
    }
    dp = ex * t;
    if (x >= 1 && x >= (double)a - 1.8 * ::sqrt((double)a)) {
      p = 1 - ex * sum;
    } else {
      double term = 1, series = 1;
      for (int64_t n = 1; a + n < 512; ++n) {
        term *= x * reciprocal(a + n);
        series += term;
        if (term < 1e-17 * series) break;
      }
      p = dp * x / (double)a * series;
    }
    return;
  }
  special::gammainc_p_and_dx(0.5 * (double)d, x, p, dp);
}

}  // namespace tg::act
