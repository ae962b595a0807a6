#pragma once
// The norm gates' math, for host and device code (the CPU kernels of norm_activation.cpp
// and the CUDA kernels of cuda/vector.cu evaluate the same functions).
//
// A norm gate is y = φ(r + b)·v, or with `normalize` y = φ(r + b)/r·v (r = ‖v‖, b a
// bias). As a vector activation y = s(r)·v (vector_kernels.h) it needs s, h = s′(r)/r
// and ∂s/∂b. With t = r + b:
//   plain:      s = φ(t),     s′ = φ′(t),                h = φ′(t)/r,        ∂s/∂b = φ′(t)
//   normalize:  s = φ(t)/r,   s′ = (φ′(t) − s)/r,        h = (φ′(t) − s)/r², ∂s/∂b = φ′(t)/r
// r → 0: the backward's second term h·(v·g)·v is O(h·r²), and h is O(1/r) for a plain
// gate (φ′(b)/r) and for a normalized one with φ(b) = 0 (then s = φ′(b⁺) + φ″(b)·r/2 + …
// and h → φ″(b)/(2r)), so the term vanishes and the Jacobian at v = 0 is s(0)·I with
//   plain: s(0) = φ(b);   normalized with φ(b) = 0: s(0) = φ′(b⁺), the right derivative.
// The kernels therefore evaluate h only for r > 0 and use s(0) at r = 0: no division by
// zero, no ε. A normalized gate with φ(b) ≠ 0 (n_sigmoid, n_softplus; e3nn's ε = 1e-8
// case) has no limit at v = 0: y jumps to φ(b)·v/r, a unit vector of any direction.
// There y(0) = 0 and the Jacobian is taken as 0 (escnn's choice), and gradchecks keep
// away from v = 0. ∂s/∂b·(v·g) is 0 at r = 0 in every case (v·g = 0).
// For huge r (r² overflowing double) h is 0, its limit.
#include <cmath>

#include "activations/special.h"  // TG_HD

namespace tg::act {

// The built-in φ's, each with its derivative in closed form. Kinks take the right
// derivative (Relu: φ′(0) = 1), so a normalized gate's s(0) is its limit from r > 0.
//   Identity  φ = t
//   Relu      φ = max(t, 0)
//   Sigmoid   φ = 1/(1 + e^(−t)),        φ′ = φ(1 − φ)
//   Softplus  φ = log(1 + e^t),          φ′ = σ(t)
//   Sabour    φ = t/(1 + t²),            φ′ = (1 − t²)/(1 + t²)²   (capsule squash, plain)
//   Escnn     φ = t/(1 + t) (t > −1),    φ′ = 1/(1 + t)²           (escnn squash, normalized)
enum class PhiKind { Identity, Relu, Sigmoid, Softplus, Sabour, Escnn };

struct PhiValue {
  double f, df;
};

TG_HD inline PhiValue phi_value(PhiKind kind, double t) {
  switch (kind) {
    case PhiKind::Identity: return {t, 1.0};
    case PhiKind::Relu: return {t > 0 ? t : 0.0, t >= 0 ? 1.0 : 0.0};
    case PhiKind::Sigmoid: {
      const double s = 1 / (1 + ::exp(-t));
      return {s, s * (1 - s)};
    }
    case PhiKind::Softplus: {
      const double s = 1 / (1 + ::exp(-t));
      return {(t > 0 ? t : 0.0) + ::log1p(::exp(-::fabs(t))), s};
    }
    case PhiKind::Sabour: {
      const double q = 1 / (1 + t * t);
      return {t * q, (1 - t * t) * q * q};
    }
    case PhiKind::Escnn: {
      const double q = 1 / (1 + t);
      return {t * q, q * q};
    }
  }
  return {0.0, 0.0};
}

// {s, h = s′/r, ∂s/∂b} of a norm gate at r (see above); h is 0 at r = 0 (unused there).
struct NormGate {
  double s, h, ds_db;
};

TG_HD inline NormGate norm_gate(double r, PhiValue p, bool normalize) {
  if (!normalize) return {p.f, r > 0 ? p.df / r : 0.0, p.df};
  if (r > 0) {
    const double s = p.f / r;
    return {s, (p.df - s) / r / r, p.df / r};
  }
  return {p.f == 0 ? p.df : 0.0, 0.0, 0.0};
}

}  // namespace tg::act
