#pragma once
// The VecGELU gate of chi_gate.h for a batch of vectors on the CPU, four vectors per
// AVX register (one lane each), for the vector kernels' batches (vector_kernels.h).
//
// For even d ≤ 64 (a = d/2) the closed forms of chi_gate.h, as packets:
//   ∂P/∂x = e^(−x)·x^(a−1)/(a−1)!           (x^(a−1) by repeated squaring),
//   P     = 1 − e^(−x)·Σ_{k<a} x^k/k!        (Horner in x with the coefficients 1/k!),
// and where that would cancel (x < max(1, a − 1.8√a), the same switch as chi_gate) the
// power series P = ∂P/∂x·x/a·Σ_{n≥0} x^n/((a+1)···(a+n)), by Horner with as many terms
// as chi_gate's loop takes at the switch (only for the lanes that need it, gathered).
// e^(−x) is exp_neg below (inline; SLEEF's out-of-line exp took two thirds of the gate's
// time). Each lane's value is its own (it does not depend on the
// other lanes, so neither on batch boundaries nor thread counts). The packet path
// covers 0 ≤ x ≤ 700 (there e^(−x) is a normal double); a lane beyond it (huge or NaN
// norms) and odd or larger d take chi_gate itself. Agreement with the double special
// functions is tested for norms from 1e-20 to 60 (tests/test_activations_vector_batch.cpp).
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

// The power series' coefficients c[m] = 1/((a+1)···(a+m)) for a ≤ 32, as many as
// chi_gate's loop sums at the switch x = max(1, a − 1.8√a) (the most any smaller x
// needs: its terms are smaller). Made once, on first use.
struct SeriesCoefficients {
  double c[33][160];
  int64_t terms[33];
  SeriesCoefficients() {
    for (int64_t a = 1; a <= 32; ++a) {
      const double below = std::max(1.0, (double)a - 1.8 * std::sqrt((double)a));
      double* ca = c[a];
      ca[0] = 1;
      double term = 1, series = 1;
      int64_t m = 1;
      for (; m < 159; ++m) {
        ca[m] = ca[m - 1] * reciprocal(a + m);
        term *= below * reciprocal(a + m);
        series += term;
        if (term < 1e-17 * series) break;
      }
      terms[a] = m + 1;
    }
  }
};
inline const SeriesCoefficients& series_coefficients() {
  static const SeriesCoefficients table;
  return table;
}

// e^(−x) for 0 ≤ x ≤ 700 in double packets, within 1.5·2^-52 relative (measured against
// long double on a grid of step 7e-4; the gate it feeds is tested against the double
// special functions in tests/test_activations_vector_batch.cpp):
// −x = k·ln2 + t with |t| ≤ ln2/2 (ln2 in two parts, Cody–Waite: k·ln2_hi is exact for
// |k| < 2^21), e^t by its Taylor polynomial of degree 13 (truncation < 5e-18 relative),
// summed as even and odd parts in t², two short chains of multiply-adds instead of one
// long one; 2^k with k ≥ −1010 is a normal double, made from its exponent bits. Lanes
// outside [0, 700] (NaN included) give some value and no trap; chi_gate_batch redoes them.
inline cpu::Vec<double> exp_neg(cpu::Vec<double> x) {
  const __m256d z = _mm256_sub_pd(_mm256_setzero_pd(), x.v);
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(z, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256d t = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10),
                                     _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), z));
  const __m256d t2 = _mm256_mul_pd(t, t);
  const double* c = kInverseFactorial.v;
  __m256d even = _mm256_set1_pd(c[12]), odd = _mm256_set1_pd(c[13]);  // Σ c_2j t^2j, Σ c_2j+1 t^2j
  for (int j = 5; j >= 0; --j) {
    even = _mm256_fmadd_pd(even, t2, _mm256_set1_pd(c[2 * j]));
    odd = _mm256_fmadd_pd(odd, t2, _mm256_set1_pd(c[2 * j + 1]));
  }
  const __m256i e = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)), _mm256_set1_epi64x(1023)), 52);
  return cpu::Vec<double>(_mm256_mul_pd(_mm256_fmadd_pd(odd, t, even), _mm256_castsi256_pd(e)));
}

// The packet gate for even d ≤ 64 (a = d/2): its constants, and its two forms for kP
// packets stepped together (each lane's value its own, whichever packets it is stepped
// with). kA > 0 fixes a = kA at compile time (the 4×4 blocks' a = 8; d must then be
// 2·kA), so that the loops over the a terms unroll with their coefficients in
// registers: the same arithmetic, the same values.
template <int kA = 0>
class ChiPacketGate {
 public:
  using V = cpu::Vec<double>;
  explicit ChiPacketGate(int64_t d)
      : a_(kA > 0 ? kA : d / 2),
        below_(std::max(1.0, (double)a_ - 1.8 * std::sqrt((double)a_))),
        c_(series_coefficients().c[a_]),
        terms_(series_coefficients().terms[a_]) {}

  // The closed forms for every lane: p = 1 − e^(−x)·Σ_{k<a} x^k/k! and, when dp is
  // non-null, dp = ∂P/∂x; returns per packet the mask of the lanes below the series
  // switch (bits 4q..4q+3), which need series().
  template <int kP>
  unsigned closed(const V* x, V* p, V* dp) const {
    V ex[kP], sum[kP];
    for (int q = 0; q < kP; ++q) ex[q] = exp_neg(x[q]);
    for (int q = 0; q < kP; ++q) sum[q] = V(kInverseFactorial.v[a() - 1]);
    for (int64_t j = a() - 2; j >= 0; --j)
      for (int q = 0; q < kP; ++q) sum[q] = fma_(sum[q], x[q], V(kInverseFactorial.v[j]));
    for (int q = 0; q < kP; ++q) p[q] = V(1.0) - ex[q] * sum[q];
    if (dp != nullptr) density<kP>(x, ex, dp);
    unsigned small = 0;
    for (int q = 0; q < kP; ++q) small |= (unsigned)_mm256_movemask_pd((__m256d)(x[q] < below_).m) << (4 * q);
    return small;
  }

  // The power series for every lane: p = ∂P/∂x·x/a·Σ_n x^n/((a+1)···(a+n)).
  template <int kP>
  void series(const V* x, V* p) const {
    V ex[kP], dpv[kP], h[kP];
    for (int q = 0; q < kP; ++q) ex[q] = exp_neg(x[q]);
    density<kP>(x, ex, dpv);
    for (int q = 0; q < kP; ++q) h[q] = V(c_[terms_ - 1]);
    for (int64_t k = terms_ - 2; k >= 0; --k)
      for (int q = 0; q < kP; ++q) h[q] = fma_(h[q], x[q], V(c_[k]));
    for (int q = 0; q < kP; ++q) p[q] = dpv[q] * x[q] * V(reciprocal(a())) * h[q];
  }

  // kP packets whole, x = r2/2 for each: the closed forms, the series for the lanes
  // below the switch, and chi_gate for lanes outside [0, 700] (fix_outside).
  template <int kP>
  void packets(const V* r2, V* p, V* dp) const {
    V x[kP];
    for (int q = 0; q < kP; ++q) x[q] = V(0.5) * r2[q];
    const unsigned small = closed<kP>(x, p, dp);
    for (int q = 0; q < kP; ++q) {
      if ((small >> (4 * q) & 15) != 0) {
        V ps;
        series<1>(x + q, &ps);
        p[q] = V(_mm256_blendv_pd(p[q].v, ps.v, _mm256_castsi256_pd(lanes_of(small >> (4 * q) & 15))));
      }
      fix_outside(x[q], p[q], dp != nullptr ? dp + q : nullptr);
    }
  }

  // chi_gate for the lanes of x outside [0, 700] (huge or NaN norms), where the packet
  // forms do not hold (e^(−x) is no longer a normal double). Always inlined: as a call it
  // kept the gate's packets in memory and made the one-pass backward 12% slower.
  [[gnu::always_inline]] void fix_outside(V x, V& p, V* dp) const {
    if (_mm256_movemask_pd(_mm256_cmp_pd(x.v, _mm256_set1_pd(700.0), _CMP_NLE_UQ)) == 0) return;
    alignas(32) double xs[4], ps[4], ds[4];
    x.store(reinterpret_cast<char*>(xs), sizeof(double), 4);
    p.store(reinterpret_cast<char*>(ps), sizeof(double), 4);
    if (dp != nullptr) dp->store(reinterpret_cast<char*>(ds), sizeof(double), 4);
    for (int j = 0; j < 4; ++j)
      if (!(xs[j] <= 700.0)) chi_gate(2 * a(), xs[j], ps[j], ds[j]);
    p = V(_mm256_load_pd(ps));
    if (dp != nullptr) *dp = V(_mm256_load_pd(ds));
  }

  int64_t a() const { return kA > 0 ? kA : a_; }

 private:
  // x^(a−1)·e^(−x)/(a−1)! (= ∂P/∂x) with x^(a−1) by squaring.
  template <int kP>
  void density(const V* x, const V* ex, V* dp) const {
    V pw[kP], base[kP];
    for (int q = 0; q < kP; ++q) {
      pw[q] = V(1.0);
      base[q] = x[q];
    }
    for (int64_t e = a() - 1; e > 0; e >>= 1) {
      for (int q = 0; q < kP; ++q) {
        if (e & 1) pw[q] = pw[q] * base[q];
        base[q] = base[q] * base[q];
      }
    }
    for (int q = 0; q < kP; ++q) dp[q] = ex[q] * pw[q] * V(kInverseFactorial.v[a() - 1]);
  }
  static __m256i lanes_of(unsigned mask) {
    return _mm256_cmpgt_epi64(_mm256_and_si256(_mm256_set1_epi64x(mask), _mm256_setr_epi64x(1, 2, 4, 8)),
                              _mm256_setzero_si256());
  }

  int64_t a_;
  V below_;
  const double* c_;
  int64_t terms_;
};

// chi_gate_batch's packet path for even d ≤ 64, kP packets stepped together (see below).
template <int kP>
void chi_gate_packets(int64_t d, int64_t n, const double* r2, double* p, double* dp) {
  using V = cpu::Vec<double>;
  const ChiPacketGate<> gate(d);
  // The series for the m ≤ 4·kP vectors at[0, m) (all kP packets, the unused lanes
  // repeating at[0]: constant trip counts, unrolled).
  int64_t at[4 * kP + 4 * kP];
  int64_t pending = 0;
  const auto series = [&](int64_t m) {
    alignas(32) double xs[4 * kP];
    for (int64_t j = 0; j < 4 * kP; ++j) xs[j] = 0.5 * r2[at[j < m ? j : 0]];
    V xv[kP], ps[kP];
    for (int q = 0; q < kP; ++q) xv[q] = V(_mm256_load_pd(xs + 4 * q));
    gate.series<kP>(xv, ps);
    for (int q = 0; q < kP; ++q)
      for (int64_t j = 4 * q; j < std::min<int64_t>(m, 4 * q + 4); ++j) p[at[j]] = ps[q].v[j - 4 * q];
  };
  for (int64_t i0 = 0; i0 < n; i0 += 4 * kP) {
    V xv[kP], dpv[kP], pv[kP];
    int lanes[kP];
    for (int q = 0; q < kP; ++q) {
      lanes[q] = (int)std::clamp<int64_t>(n - i0 - 4 * q, 0, 4);
      const double* src = r2 + i0 + 4 * q;
      xv[q] = V(0.5) * V::load(reinterpret_cast<const char*>(src), sizeof(double), lanes[q]);  // (unused lanes 0)
    }
    const unsigned small_all = gate.closed<kP>(xv, pv, dp != nullptr ? dpv : nullptr);
    for (int q = 0; q < kP; ++q) {
      const int64_t i = i0 + 4 * q;
      gate.fix_outside(xv[q], pv[q], dp != nullptr ? dpv + q : nullptr);
      pv[q].store(reinterpret_cast<char*>(p + i), sizeof(double), lanes[q]);
      if (dp != nullptr) dpv[q].store(reinterpret_cast<char*>(dp + i), sizeof(double), lanes[q]);
      const int small = (int)(small_all >> (4 * q)) & 15 & ((1 << lanes[q]) - 1);
      if (small != 0)
        for (int j = 0; j < 4; ++j) {  // (branch-free: which lanes are small is random)
          at[pending] = i + j;
          pending += small >> j & 1;
        }
    }
    if (pending >= 4 * kP) {
      series(4 * kP);
      pending -= 4 * kP;
      std::copy_n(at + 4 * kP, pending, at);
    }
  }
  if (pending > 0) series(pending);
}

// p[i] = P(d/2, x) and, when dp is non-null, dp[i] = ∂P/∂x (d/2, x) at x = r2[i]/2 for
// i < n (the VecGELU gate of a vector with ‖v‖² = r2[i]), every r2[i] ≥ 0 or NaN.
// The closed form is taken for every lane; the lanes below the series switch are
// gathered across the whole batch, a group of packets at a time, and their P evaluated
// again by the series (tens of steps for d = 64, and few lanes need it: stepping whole
// groups through it wherever one lane did cost a third of the channels gate's time).
// The Horner sum and the series are chains of dependent multiply-adds: for d > 16, whose
// chains are long, four packets are stepped side by side to keep the FMA units busy;
// for d ≤ 16 one packet at a time, its short chains overlapped across iterations by the
// out-of-order core (measured 10% faster than four side by side, which spill registers).
inline void chi_gate_batch(int64_t d, int64_t n, const double* r2, double* p, double* dp) {
  if (d % 2 != 0 || d > 64) {
    for (int64_t i = 0; i < n; ++i) {
      double dpi;
      chi_gate(d, 0.5 * r2[i], p[i], dpi);
      if (dp != nullptr) dp[i] = dpi;
    }
    return;
  }
  if (d <= 16) {
    chi_gate_packets<1>(d, n, r2, p, dp);
  } else {
    chi_gate_packets<4>(d, n, r2, p, dp);
  }
}

}  // namespace tg::act
