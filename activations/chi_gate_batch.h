#pragma once
// The VecGELU gate of chi_gate.h for a batch of vectors on the CPU, four vectors per
// AVX register (one lane each), for the vector kernels' batches (vector_kernels.h).
//
// For even d ≤ 64 (a = d/2) the closed forms of chi_gate.h, as packets:
//   ∂P/∂x = e^(−x)·x^(a−1)/(a−1)!           (x^(a−1) by repeated squaring),
//   P     = 1 − e^(−x)·Σ_{k<a} x^k/k!        (Horner in x with the coefficients 1/k!),
// and where that would cancel (x < max(1, a − 1.8√a), the same switch as chi_gate) the
// power series P = ∂P/∂x·x/a·Σ_{n≥0} x^n/((a+1)···(a+n)), run (only when some lane
// needs it) until every such lane has converged. e^(−x) is SLEEF's (≤ 1 ulp). The
// packet path covers 0 ≤ x ≤ 700 (there e^(−x) is a normal double); a lane beyond it
// (huge or NaN norms) and odd or larger d take chi_gate itself. Agreement with the
// general log-space evaluation is tested over x from 1e-30 to 1e4
// (tests/test_activations_vector.cpp).
#include <algorithm>
#include <cmath>

#include "activations/chi_gate.h"
#include "core/kernel.h"

namespace tg::act {

// 1/k! for k ≤ 32.
struct InverseFactorials {
  double v[33];
  constexpr InverseFactorials() : v{} {
    v[0] = 1;
    for (int k = 1; k <= 32; ++k) v[k] = v[k - 1] / k;
  }
};
inline constexpr InverseFactorials kInverseFactorial{};

// p[i] = P(d/2, x[i]) and dp[i] = ∂P/∂x (d/2, x[i]) for i < n, every x[i] ≥ 0 or NaN.
inline void chi_gate_batch(int64_t d, int64_t n, const double* x, double* p, double* dp) {
  if (d % 2 != 0 || d > 64) {
    for (int64_t i = 0; i < n; ++i) chi_gate(d, x[i], p[i], dp[i]);
    return;
  }
  using V = cpu::Vec<double>;
  const int64_t a = d / 2;
  const V series_below(std::max(1.0, (double)a - 1.8 * std::sqrt((double)a)));
  for (int64_t i = 0; i < n; i += 4) {
    const int k = (int)std::min<int64_t>(4, n - i);
    const V xv = V::load(reinterpret_cast<const char*>(x + i), sizeof(double), k);
    const V ex = exp_(-xv);
    V sum(kInverseFactorial.v[a - 1]);
    for (int64_t j = a - 2; j >= 0; --j) sum = fma_(sum, xv, V(kInverseFactorial.v[j]));
    V pw(1.0), base = xv;  // x^(a−1)
    for (int64_t e = a - 1; e > 0; e >>= 1) {
      if (e & 1) pw = pw * base;
      base = base * base;
    }
    const V dpv = ex * pw * V(kInverseFactorial.v[a - 1]);
    V pv = V(1.0) - ex * sum;
    const cpu::Mask<double> small = xv < series_below;
    if (_mm256_movemask_pd((__m256d)small.m) != 0) {
      // A lane stops where chi_gate's loop would (its later terms are 0), so its value
      // does not depend on the other lanes. The other lanes' terms vanish at once.
      V xs = where_(small, xv, V(0.0)), term(1.0), series(1.0);
      for (int64_t m = 1; a + m < 512; ++m) {
        term = term * xs * V(reciprocal(a + m));
        series = series + term;
        const cpu::Mask<double> done = term < V(1e-17) * series;
        if (_mm256_movemask_pd((__m256d)done.m) == 0xF) break;
        xs = where_(done, V(0.0), xs);
      }
      pv = where_(small, dpv * xv * V(reciprocal(a)) * series, pv);
    }
    pv.store(reinterpret_cast<char*>(p + i), sizeof(double), k);
    dpv.store(reinterpret_cast<char*>(dp + i), sizeof(double), k);
    const int outside = _mm256_movemask_pd(_mm256_cmp_pd(xv.v, _mm256_set1_pd(700.0), _CMP_NLE_UQ));
    for (int j = 0; j < k; ++j)
      if (outside >> j & 1) chi_gate(d, x[i + j], p[i + j], dp[i + j]);
  }
}

}  // namespace tg::act
