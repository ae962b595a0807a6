#pragma once
// Fused CPU kernels shared by the vector activations (included by their .cpp files).
//
// A vector activation is y = s(r, d)·v per vector v (r = ‖v‖). Its Jacobian is
// ∂y_i/∂v_j = s·δ_ij + s′(r)·v_i·v_j/r (since ∂r/∂v_j = v_j/r), so with upstream g
//   ∂L/∂v = s·g + (s′(r)/r)·(v·g)·v,
// and for a gate parameter θ: ∂L/∂θ = Σ_vectors (v·g)·∂s/∂θ.
// Each kernel is one parallel pass over the vectors: the norm (and v·g) are
// accumulated in double, the gate is evaluated once per vector, then the vector is
// written; nothing the size of the input is allocated besides the result.
#include <omp.h>

#include "activations/grouping.h"
#include "core/cpu/loops.h"

namespace tg::act {

// What a gate returns for the backward: s, s′(r)/r, and ∂s/∂θ (0 without a parameter).
struct GateGrad {
  double s, coef, dparam;
};

// y_v = scale(v, r², d)·x_v.
template <class T, class Scale>
void vector_forward(const VectorPlan& plan, const T* x, T* y, Scale&& scale) {
  const int64_t count = plan.count();
#pragma omp parallel for schedule(static) if (plan.numel() > cpu::kParallelGrain)
  for (int64_t v = 0; v < count; ++v) {
    const VectorPatch p = plan.patch(v);
    double r2 = 0;
    for (int64_t i = 0; i < p.rows; ++i) {
      const T* xr = x + p.base + i * p.row_stride;
      for (int64_t j = 0; j < p.cols; ++j) r2 += (double)xr[j] * xr[j];
    }
    const T s = (T)scale(v, r2, p.dim());
    for (int64_t i = 0; i < p.rows; ++i) {
      const int64_t o = p.base + i * p.row_stride;
      for (int64_t j = 0; j < p.cols; ++j) y[o + j] = s * x[o + j];
    }
  }
}

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v with {s, s′/r, ∂s/∂θ} = gate(r², d); returns
// Σ_v (x_v·g_v)·∂s/∂θ. A zero vector (r = 0) or a vanishing s′/r contributes no
// second term (it is 0·finite there; skipping it avoids 0·∞ at r = 0 or r = ∞).
template <class T, class Gate>
double vector_backward(const VectorPlan& plan, const T* x, const T* g, T* dx, Gate&& gate) {
  const int64_t count = plan.count();
  double dparam = 0;
#pragma omp parallel for schedule(static) reduction(+ : dparam) if (plan.numel() > cpu::kParallelGrain)
  for (int64_t v = 0; v < count; ++v) {
    const VectorPatch p = plan.patch(v);
    double r2 = 0, dot = 0;
    for (int64_t i = 0; i < p.rows; ++i) {
      const int64_t o = p.base + i * p.row_stride;
      for (int64_t j = 0; j < p.cols; ++j) {
        r2 += (double)x[o + j] * x[o + j];
        dot += (double)x[o + j] * g[o + j];
      }
    }
    const GateGrad q = gate(r2, p.dim());
    const double c = (r2 == 0 || q.coef == 0) ? 0.0 : q.coef * dot;
    if (q.dparam != 0) dparam += dot * q.dparam;
    const T s = (T)q.s, ct = (T)c;
    for (int64_t i = 0; i < p.rows; ++i) {
      const int64_t o = p.base + i * p.row_stride;
      for (int64_t j = 0; j < p.cols; ++j) dx[o + j] = s * g[o + j] + ct * x[o + j];
    }
  }
  return dparam;
}

// out_v = scale[v]·in_v (one saved scale per vector).
template <class T>
void vector_scale(const VectorPlan& plan, const T* in, const T* scale, T* out) {
  const int64_t count = plan.count();
#pragma omp parallel for schedule(static) if (plan.numel() > cpu::kParallelGrain)
  for (int64_t v = 0; v < count; ++v) {
    const VectorPatch p = plan.patch(v);
    for (int64_t i = 0; i < p.rows; ++i) {
      const int64_t o = p.base + i * p.row_stride;
      for (int64_t j = 0; j < p.cols; ++j) out[o + j] = scale[v] * in[o + j];
    }
  }
}

}  // namespace tg::act
