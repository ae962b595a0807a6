// tapegrad — special functions for host C++ and CUDA device code.
//
//   tg::special::erf(x)                     error function
//   tg::special::Phi(x)                     standard normal CDF, accurate in both tails
//   tg::special::lgamma(x)                  log Γ(x), x > 0
//   tg::special::gammainc_p(a, x)           regularized lower incomplete gamma P(a, x)
//   tg::special::gammainc_p_dx(a, x)        ∂P/∂x = x^(a-1) e^(-x) / Γ(a)
//   tg::special::gammainc_p_and_dx(a, x, p, dp)   both at once (shares the exp/log work)
//
// Every function has a double and a float overload.  The float overloads evaluate
// in double and round once: this is the simplest way to meet a 1e-6 relative error
// bound everywhere (a float-only P(a, x) would lose several digits to cancellation
// in the exponent a·log(x/a) for a in the thousands).  On GPUs with slow FP64 this
// costs throughput, not correctness.
//
// Device-code rules followed throughout: no exceptions, no allocation, no recursion,
// no std::function, every loop has a fixed iteration cap, only ::exp/::log/::erfc/...
// (available on host and device) are called, constants are literals.
//
// Accuracy (measured against mpmath at 50 digits, see tests/test_special.cpp and
// scripts/gen_special_table.py): for a in [0.5, 4096], x in [0, 1e4] the relative
// error of P and dP/dx is below 1e-12 in double and 1e-6 in float wherever the
// value is a normal floating-point number.  Measured: ≤ 2e-14 where P > 1e-20,
// ≤ 2e-13 in the far lower tail (P ~ 1e-200, where the exponent a·φ ~ 500 carries
// ulp-level error); float: ≤ 6e-8 (one rounding of the double result).
#pragma once

#include <cfloat>
#include <cmath>
#include <type_traits>

#include "core/hd.h"

namespace tg::special {

namespace detail {

constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kLnSqrt2Pi = 0.918938533204672741780329736405617640;  // log(sqrt(2π))
constexpr double kTwoOverSqrtPi = 1.128379167095512573896158903121545172;
// 1/√2 split into a double head and the (exact enough) remainder, for Phi.
constexpr double kSqrtHalfHi = 0.70710678118654757;
constexpr double kSqrtHalfLo = -4.8336466567264567e-17;

TG_HD inline bool is_nan(double v) { return v != v; }

// Horner evaluation with the coefficients listed from the HIGHEST power down to
// the constant term: horner(z, c_n, ..., c_1, c_0) = c_0 + z·(c_1 + ... + z·c_n).
// A fold expression (not recursion), so every coefficient stays an immediate.
template <class... C>
TG_HD inline double horner(double z, double c_hi, C... rest) {
  double r = c_hi;
  ((r = r * z + static_cast<double>(rest)), ...);
  return r;
}

// φ(a, x) = λ − 1 − log λ with λ = x/a  (so a·φ = x − a − a·log(x/a) ≥ 0).
//
// Why: x^a e^(−x) / Γ(a) = sqrt(a/2π) · exp(−a·φ) / Γ*(a) (Stirling form, Γ* below).
// Every large quantity (a·log x ≈ 3.4e4 at a = 4096, lgamma(a) ≈ 3e4) cancels
// analytically, so the only rounding error that gets amplified by the exponential
// is that of a·φ itself, which is ≤ ~745 whenever the result is representable.
// The naive exp(a·log x − x − lgamma(a)) has an absolute exponent error of
// ulp(3.4e4) ≈ 7e-12 at a = 4096, i.e. a relative error of ~1e-11 in the result.
//
// φ itself is computed without cancellation:
//  * |μ| small (μ = λ − 1 in [−1/2, 1], where x − a is exact by Sterbenz): with
//    t = μ/(2+μ), log(1+μ) = 2·atanh(t), hence
//      φ = μ − log1p(μ) = μ·t − 2t³·(1/3 + t²/5 + t⁴/7 + ...),   |t| ≤ 1/3,
//    where the second term is ≤ μ/6 of the first (no cancellation);
//  * λ < 1/2: φ = (λ − 1) − log λ, both terms of the same sign; log λ is taken
//    as log x − log a if λ would be subnormal (x tiny, a large);
//  * μ > 1: φ = μ − log1p(μ) loses at most ~2 bits.
TG_HD inline double phi_lambda(double a, double x) {
  const double mu = (x - a) / a;
  if (mu >= -0.5 && mu <= 1.0) {
    const double t = mu / (2.0 + mu);
    const double t2 = t * t;
    double sum = 0.0, tk = 1.0;
    for (int k = 0; k < 40; ++k) {  // t² ≤ 1/9: 17 terms reach 1e-17
      const double term = tk / (2 * k + 3);
      sum += term;
      if (term < 1e-17 * sum) break;
      tk *= t2;
    }
    return mu * t - 2.0 * t * t2 * sum;
  }
  if (mu < -0.5) {
    const double lam = x / a;
    const double log_lam = (lam > 1e-290) ? ::log(lam) : ::log(x) - ::log(a);
    return mu - log_lam;
  }
  // (x/a overflowing to +inf, e.g. x = DBL_MAX: φ = +inf, not inf − inf = NaN.)
  return (mu > 1e300) ? mu : mu - ::log1p(mu);
}

// log Γ*(a), where Γ*(a) = Γ(a) / (sqrt(2π/a) · (a/e)^a) → 1 as a → ∞.
// Working with Γ* instead of Γ keeps the huge parts of log Γ(a) out of the
// floating-point arithmetic (see phi_lambda).
//  * a ≥ 10: Stirling series log Γ*(a) = Σ_k B_2k / (2k(2k−1) a^(2k−1)), 8 terms;
//    the first omitted term is < 1e-17 at a = 10.
//  * a < 10: log Γ(a) + a − (a − ½)·log a − log sqrt(2π); all terms are O(20) here
//    so the absolute error (which is what matters inside exp) is ~1e-14.
TG_HD inline double log_gamma_star(double a) {
  if (a >= 10.0) {
    const double r = 1.0 / a;
    const double r2 = r * r;
    return r * horner(r2, -3617.0 / 122400.0, 1.0 / 156.0, -691.0 / 360360.0, 1.0 / 1188.0,
                      -1.0 / 1680.0, 1.0 / 1260.0, -1.0 / 360.0, 1.0 / 12.0);
  }
  return ::lgamma(a) + a - (a - 0.5) * ::log(a) - kLnSqrt2Pi;
}

// log of the common prefactor x^a e^(−x) / Γ(a) = log(a) + log(x · dP/dx),
// in the cancellation-free Stirling form (see phi_lambda / log_gamma_star).
// Finite for 0 < x < ∞ and a > 0 (it can be very negative, never NaN).
TG_HD inline double log_prefix(double a, double x) {
  return -a * phi_lambda(a, x) + 0.5 * ::log(a / (2.0 * kPi)) - log_gamma_star(a);
}

// Series  P(a, x) = x^a e^(−x) / Γ(a+1) · Σ_{n≥0} x^n / ((a+1)(a+2)···(a+n)).
// All terms positive (no cancellation); the term ratio x/(a+n) is < 1 from the
// start in the region where it is used (x < a+1, or x < 0.6·a for a > 20), so
// convergence to 1e-17 takes at most ~100 terms in range; capped at 1000.
TG_HD inline double p_series(double a, double x, double prefix) {
  double term = 1.0, sum = 1.0;
  for (int n = 1; n < 1000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return prefix / a * sum;
}

// Legendre continued fraction for the upper tail, evaluated by modified Lentz:
//   Q(a, x) = x^a e^(−x) / Γ(a) · 1/(x+1−a − 1·(1−a)/(x+3−a − 2·(2−a)/(x+5−a − ...)))
// Used for x ≥ a+1 (a ≤ 20) or x ≥ 1.4·a (a > 20), where it converges quickly
// (≤ ~100 iterations measured over the whole range); capped at 2000.
TG_HD inline double q_contfrac(double a, double x, double prefix) {
  const double tiny = 1e-300;
  double b = x + 1.0 - a;
  double c = 1.0 / tiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < 2000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (::fabs(del - 1.0) < 1e-16) break;
  }
  return prefix * h;
}

// Temme's uniform asymptotic expansion (DLMF 8.12.7–8.12.10; Temme 1979; the same
// scheme as DiDonato & Morris 1986 and Boost's igamma_temme_large):
//   η = sign(λ−1)·sqrt(2φ),  y = a·φ = a·η²/2,
//   Q(a, x) = ½·erfc(η·sqrt(a/2)) + R,   P(a, x) = ½·erfc(−η·sqrt(a/2)) − R,
//   R = e^(−y) / sqrt(2πa) · Σ_{k≥0} c_k(η) a^(−k).
// Used for a > 20 and |x−a| < 0.4·a.  There the series needs O(sqrt(a)) terms
// and the continued fraction converges slowly, while here the leading erfc term
// carries the transition through ½ and the correction R is small and smooth.
// We return the smaller tail directly (P for x < a, Q for x ≥ a): for x < a both
// ½erfc(√y) and −R are positive, so the small P is obtained without cancellation.
// c_k(η) are evaluated from their Taylor series in η (exact rational coefficients
// generated by `scripts/gen_special_table.py --temme`), truncated where the terms
// fall below 1e-19 for |η| ≤ 0.48, a ≥ 20; eleven terms k = 0..10 leave a
// truncation error below 1e-18 relative at a = 20.
// Returns P(a, x) if x < a, else Q(a, x).
TG_HD inline double temme_small_tail(double a, double x) {
  const double phi = phi_lambda(a, x);
  const double y = a * phi;
  const double z = (x < a) ? -::sqrt(2.0 * phi) : ::sqrt(2.0 * phi);
  const double r = 1.0 / a;
  // BEGIN generated by scripts/gen_special_table.py --temme
  // w_k = c_k(z), coefficients from the highest power of z down to z^0.
    const double w0 = horner(z,  // degree 20
            3.371763262400985e-13, 1.1004392031956135e-13, -5.0276692801141755e-12, 2.4361948020667415e-11,
            -5.830772132550426e-11, -2.5514193994946248e-11, 9.14769958223679e-10, -4.382036018453353e-09,
            1.0261809784240309e-08, 6.707853543401498e-09, -1.7665952736826078e-07, 8.296711340953087e-07,
            -1.85406221071516e-06, -2.185448510679992e-06, 3.919263178522438e-05, -0.0001787551440329218,
            0.0003527336860670194, 0.0011574074074074073, -0.014814814814814815, 0.08333333333333333,
            -0.3333333333333333);
    const double w1 = horner(z,  // degree 19
            -2.933186643771437e-12, 7.1624989648114856e-12, 6.067215101604758e-14, -8.56390702649298e-11,
            4.162792991842583e-10, -1.0091543710600413e-09, -1.7543241719747647e-11, 1.1951628599778148e-08,
            -5.752545603517705e-08, 1.378633446915721e-07, 4.647127802807434e-09, -1.6120900894563446e-06,
            7.64916091608111e-06, -1.8098550334489977e-05, -4.018775720164609e-07, 0.00020576131687242798,
            -0.0009902263374485596, 0.0026455026455026454, -0.003472222222222222, -0.001851851851851852);
    const double w2 = horner(z,  // degree 17
            -5.5645956134363323e-11, 1.2872252400089318e-10, 9.428356159014678e-13, -1.3670488396617114e-09,
            6.228974084922022e-09, -1.409252991086752e-08, -2.0477098421990866e-10, 1.4280614206064242e-07,
            -6.298992138380055e-07, 1.3721957309062934e-06, 3.423578734096138e-08, -1.2760635188618728e-05,
            5.2923448829120125e-05, -0.0001073665322636516, 2.0093878600823047e-06, 0.0007716049382716049,
            -0.0026813271604938273, 0.004133597883597883);
    const double w3 = horner(z,  // degree 16
            2.1541049775774907e-10, -9.460496661855133e-10, 2.0620131815488797e-09, 2.3928620439808118e-12,
            -1.9111168485973655e-08, 8.099464905388083e-08, -1.6958404091930278e-07, -2.7861080291528143e-11,
            1.4230900732435883e-06, -5.6749528269915965e-06, 1.1082654115347302e-05, -2.396505113867297e-07,
            -7.561801671883977e-05, 0.00026772063206283885, -0.0004691894943952557, 0.00022947209362139917,
            0.0006494341563786008);
    const double w4 = horner(z,  // degree 14
            3.4463580499464896e-09, -1.4189739437803219e-08, 2.8865829742708783e-08, 2.956794137544049e-11,
            -2.292934834000805e-07, 8.907507532205309e-07, -1.6954149536558305e-06, 2.507497226237533e-10,
            1.1375726970678419e-05, -3.968365047179435e-05, 6.641498215465122e-05, -1.4638452578843418e-06,
            -0.0002990724803031902, 0.0007840392217200666, -0.0008618882909167117);
    const double w5 = horner(z,  // degree 12
            4.8240967037894184e-08, -1.8447187191171344e-07, 3.4652846491085265e-07, -3.252473551298454e-10,
            -2.291481176508095e-06, 8.018470256334202e-06, -1.3594048189768693e-05, 1.419062920643967e-07,
            6.797780477937208e-05, -0.00019932570516188847, 0.0002772753244959392, -6.972813758365857e-05,
            -0.00033679855336635813);
    const double w6 = horner(z,  // degree 12
            -8.828600746330484e-08, 2.338630673826657e-13, 5.788792863149004e-07, -2.0291327396058603e-06,
            3.465155368803609e-06, -3.0796134506033047e-09, -1.8329116582843375e-05, 5.61168275310625e-05,
            -8.153969367561969e-05, 7.902353232660328e-07, 0.0002708782096718045, -0.0005921664373536939,
            0.0005313079364639922);
    const double w7 = horner(z,  // degree 11
            6.166714376110408e-07, -1.0595367014026043e-06, 4.93875893393627e-10, 5.7876949497350525e-06,
            -1.8263488805711332e-05, 2.7744451511563645e-05, -1.2741009095484485e-07, -0.00010976582244684731,
            0.0002812695154763237, -0.00033493161081142234, 5.171790908260592e-05, 0.00034436760689237765);
    const double w8 = horner(z,  // degree 9
            6.783342904865167e-06, -1.0595271125805195e-05, 4.557909867922708e-09, 4.629953263691304e-05,
            -0.00012783517679769218, 0.00016644846642067547, -6.969091458420552e-07, -0.000438297098541721,
            0.0008394987206720873, -0.0006526239185953094);
    const double w9 = horner(z,  // degree 8
            -2.1073920183404862e-05, 6.105192082501531e-05, -8.479507117068503e-05, 1.819700838046515e-07,
            0.00027750107634328704, -0.0006401475260262758, 0.0006782308837667328, -7.204895416020011e-05,
            -0.0005967612901927463);
    const double w10 = horner(z,  // degree 6
            -0.00016858853767910798, 0.00042735056665392886, -0.0005087450129309319, 9.9324041226423e-07,
            0.0011089369134596636, -0.0019144384985654776, 0.0013324454494800656);
  // END generated
  const double series = horner(r, w10, w9, w8, w7, w6, w5, w4, w3, w2, w1, w0);
  const double rterm = ::exp(-y) / ::sqrt(2.0 * kPi * a) * series;
  const double half_erfc = 0.5 * ::erfc(::sqrt(y));
  return (x < a) ? half_erfc - rterm : half_erfc + rterm;
}

// Shared driver.  P and dP/dx need the same prefactor x^a e^(−x)/Γ(a), so computing
// both together costs one exp/log less than two separate calls.
// Conventions outside the mathematical domain (documented in the public functions):
// a ≤ 0 or NaN inputs → NaN; x < 0 → P = 0, dP/dx = 0 (CDF of a positive variable).
TG_HD inline void gammainc_impl(double a, double x, bool want_p, bool want_dp, double& p,
                                double& dp) {
  if (is_nan(a) || is_nan(x) || !(a > 0.0) || a > DBL_MAX) {
    p = dp = ::nan("");
    return;
  }
  if (x <= 0.0) {
    p = 0.0;
    // lim_{x→0+} x^(a−1)/Γ(a): +∞ for a < 1 (clamped to DBL_MAX), 1 for a = 1, 0 for a > 1.
    dp = (x < 0.0) ? 0.0 : (a < 1.0 ? DBL_MAX : (a == 1.0 ? 1.0 : 0.0));
    return;
  }
  if (x > DBL_MAX) {
    p = 1.0;
    dp = 0.0;
    return;
  }
  const bool temme = a > 20.0 && ::fabs(x - a) < 0.4 * a;
  double lp = 0.0, prefix = 0.0;
  if (want_dp || !temme) {
    lp = log_prefix(a, x);
    prefix = ::exp(lp);
  }
  if (want_dp) {
    // dP/dx = prefix / x.  Divide directly when prefix is a normal number (one
    // rounding); otherwise stay in log space so that a subnormal/underflowed prefix
    // (tiny x, large a) does not lose the result.  Clamped: never +inf.
    const double v = (prefix >= 1e-290) ? prefix / x : ::exp(lp - ::log(x));
    dp = (v > DBL_MAX) ? DBL_MAX : v;
  }
  if (!want_p) return;
  if (temme) {
    const double s = temme_small_tail(a, x);
    p = (x < a) ? s : 1.0 - s;
  } else if (x < a + (a > 20.0 ? 0.0 : 1.0)) {
    p = (prefix == 0.0) ? 0.0 : p_series(a, x, prefix);
  } else {
    // Q ≤ prefix here (the continued fraction value is < 1), so 1 − Q rounds to 1.
    p = (prefix < 1e-18) ? 1.0 : 1.0 - q_contfrac(a, x, prefix);
  }
  p = (p < 0.0) ? 0.0 : (p > 1.0 ? 1.0 : p);
}

TG_HD inline float to_float_clamped(double v) {
  constexpr double kMax = static_cast<double>(FLT_MAX);
  return (v > kMax) ? FLT_MAX : (v < -kMax ? -FLT_MAX : static_cast<float>(v));
}

}  // namespace detail

// ---------------------------------------------------------------------------------
// erf(x) = 2/√π ∫_0^x e^(−t²) dt.  Thin wrapper over the C library / CUDA erf.
TG_HD inline double erf(double x) { return ::erf(x); }
TG_HD inline float erf(float x) { return static_cast<float>(::erf(static_cast<double>(x))); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
TG_HD inline double erf(T x) { return erf(static_cast<double>(x)); }

// Φ(x) = ½·erfc(−x/√2), the standard normal CDF.
// Why erfc and not ½(1 + erf(x/√2)): for x ≪ 0 the latter cancels to 0 long before
// Φ underflows (Φ(−10) ≈ 7.6e-24), while erfc keeps full relative accuracy.
// The rounding of u = −x/√2 itself would cost a relative error ≈ 2u²·ε (≈1e-14 at
// x = −10), so the exact product error du (via fma and a two-part 1/√2) is applied
// as a first-order correction: erfc(u + du) ≈ erfc(u) − 2/√π·e^(−u²)·du.
TG_HD inline double Phi(double x) {
  if (detail::is_nan(x)) return x;
  if (x < -40.0) return 0.0;  // Φ(−40) ≈ 4e-350 underflows
  if (x > 40.0) return 1.0;
  const double u = -x * detail::kSqrtHalfHi;
  const double du = ::fma(-x, detail::kSqrtHalfHi, -u) + (-x) * detail::kSqrtHalfLo;
  return 0.5 * (::erfc(u) - detail::kTwoOverSqrtPi * ::exp(-u * u) * du);
}
TG_HD inline float Phi(float x) { return static_cast<float>(Phi(static_cast<double>(x))); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
TG_HD inline double Phi(T x) { return Phi(static_cast<double>(x)); }

// log Γ(x) for x > 0 (wrapper over ::lgamma; poles give +inf, as in C).
TG_HD inline double lgamma(double x) { return ::lgamma(x); }
TG_HD inline float lgamma(float x) { return static_cast<float>(::lgamma(static_cast<double>(x))); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
TG_HD inline double lgamma(T x) { return lgamma(static_cast<double>(x)); }

// P(a, x) = γ(a, x)/Γ(a) = 1/Γ(a) ∫_0^x t^(a−1) e^(−t) dt, the CDF of Gamma(a, 1).
// Method: series (x small), Lentz continued fraction for Q = 1 − P (x large),
// Temme's uniform expansion for a > 20, |x − a| < 0.4a (see detail::).
// P(a, 0) = 0, P(a, +inf) = 1; x < 0 gives 0; a ≤ 0 or NaN gives NaN.
// Result is clamped to [0, 1], never NaN/inf for a > 0 and x ≥ 0.
TG_HD inline double gammainc_p(double a, double x) {
  double p = 0.0, dp = 0.0;
  detail::gammainc_impl(a, x, true, false, p, dp);
  return p;
}
TG_HD inline float gammainc_p(float a, float x) {
  return static_cast<float>(gammainc_p(static_cast<double>(a), static_cast<double>(x)));
}
// Any other arithmetic combination (int, mixed float/double, ...) is evaluated in
// double; without this, gammainc_p(double, float) would be ambiguous.
template <class A, class X, std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<X>, int> = 0>
TG_HD inline double gammainc_p(A a, X x) {
  return gammainc_p(static_cast<double>(a), static_cast<double>(x));
}

// dP/dx = x^(a−1) e^(−x) / Γ(a), the Gamma(a, 1) density.
// Evaluated in log space: x^(a−1) and Γ(a) overflow for a in the hundreds or
// thousands while their ratio is modest.  The log is formed in the Stirling form
// −a·(λ−1−log λ) + log sqrt(a/2π) − log Γ*(a) − log x (λ = x/a), because the plain
// (a−1)·log x − x − lgamma(a) cancels terms of size 3e4 at a = 4096 and would leave
// a ~1e-11 relative error.
// x = 0: +inf for a < 1 is replaced by DBL_MAX (FLT_MAX in float), 1 for a = 1,
// 0 for a > 1.  Large values are clamped to DBL_MAX/FLT_MAX: never inf or NaN.
// x < 0 or x = +inf: 0.
TG_HD inline double gammainc_p_dx(double a, double x) {
  double p = 0.0, dp = 0.0;
  detail::gammainc_impl(a, x, false, true, p, dp);
  return dp;
}
TG_HD inline float gammainc_p_dx(float a, float x) {
  return detail::to_float_clamped(gammainc_p_dx(static_cast<double>(a), static_cast<double>(x)));
}
template <class A, class X, std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<X>, int> = 0>
TG_HD inline double gammainc_p_dx(A a, X x) {
  return gammainc_p_dx(static_cast<double>(a), static_cast<double>(x));
}

// Both P(a, x) and dP/dx in one call (shares the prefactor computation).
TG_HD inline void gammainc_p_and_dx(double a, double x, double& p, double& dp) {
  detail::gammainc_impl(a, x, true, true, p, dp);
}
TG_HD inline void gammainc_p_and_dx(float a, float x, float& p, float& dp) {
  double pd = 0.0, dpd = 0.0;
  detail::gammainc_impl(static_cast<double>(a), static_cast<double>(x), true, true, pd, dpd);
  p = static_cast<float>(pd);
  dp = detail::to_float_clamped(dpd);
}

}  // namespace tg::special
