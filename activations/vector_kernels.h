#pragma once
// Fused CPU kernels shared by the vector activations (included by their .cpp files),
// and their input check. activations/cuda/vector.cu holds the CUDA kernels.
//
// A vector activation is y = s(r, d)·v per vector v (r = ‖v‖). Its Jacobian is
// ∂y_i/∂v_j = s·δ_ij + s′(r)·v_i·v_j/r (since ∂r/∂v_j = v_j/r), so with upstream g
//   ∂L/∂v = s·g + (s′(r)/r)·(v·g)·v,
// and for a gate parameter θ: ∂L/∂θ = Σ_vectors (v·g)·∂s/∂θ.
// Each kernel is one parallel pass over the vectors: the norm (and v·g) are
// accumulated in double, the gate is evaluated once per vector, then the vector is
// written; nothing the size of the input is allocated besides the result.
#include <omp.h>
#include <vector>

#include "activations/grouping.h"
#include "core/kernel.h"

namespace tg::act {

// Splits the vectors into one contiguous range per thread: body(v0, v1), each thread
// under a DenormalScope (core/parallel.h).
template <class Body>
void for_each_vector_range(const VectorPlan& plan, Body&& body) {
  const int64_t count = plan.count();
  if (count == 0) return;
  if (plan.numel() < cpu::kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) {
    const DenormalScope denormals;
    body(0, count);
    return;
  }
#pragma omp parallel
  {
    const DenormalScope denormals;
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num(), chunk = (count + nt - 1) / nt;
    const int64_t v0 = std::min(count, t * chunk), v1 = std::min(count, v0 + chunk);
    if (v0 < v1) body(v0, v1);
  }
}

// Calls f(offset, e) for the e-th element of patch p. 4×4 blocks (the VecGELU default)
// get fixed trip counts, so the compiler unrolls and vectorizes them.
template <class F>
inline void for_each_element(const VectorPatch& p, F&& f) {
  if (p.rows == 4 && p.cols == 4) {
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) f(p.base + i * p.row_stride + j, i * 4 + j);
    return;
  }
  int64_t e = 0;
  for (int64_t i = 0; i < p.rows; ++i)
    for (int64_t j = 0; j < p.cols; ++j, ++e) f(p.base + i * p.row_stride + j, e);
}

// What a gate returns for the backward: s, s′(r)/r, and ∂s/∂θ (0 without a parameter).
struct GateGrad {
  double s, coef, dparam;
};

// Channel grouping: up to kTile vectors at consecutive positions of one sample form a
// C×len tile whose rows are contiguous, so the per-vector sums run along rows (unit
// stride, vectorizable) instead of down strided columns. tile(v, len, p) is called
// with p the patch of vector v.
inline constexpr int64_t kTile = 64;
template <class Tile>
void for_each_channel_tile(const VectorPlan& plan, Tile&& tile) {
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
    for (int64_t v = v0; v < v1;) {
      const int64_t len = std::min({kTile, v1 - v, plan.positions() - v % plan.positions()});
      tile(v, len, plan.patch(v));
      v += len;
    }
  });
}

// y_v = scale(v, r², d)·x_v.
template <class T, class Scale>
void vector_forward(const VectorPlan& plan, const T* x, T* y, Scale&& scale) {
  if (plan.is_channels()) {
    for_each_channel_tile(plan, [&](int64_t v, int64_t len, const VectorPatch& p) {
      double r2[kTile] = {};
      for (int64_t c = 0; c < p.rows; ++c) {
        const T* xr = x + p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) r2[j] += (double)xr[j] * xr[j];
      }
      T s[kTile];
      for (int64_t j = 0; j < len; ++j) s[j] = (T)scale(v + j, r2[j], p.rows);
      for (int64_t c = 0; c < p.rows; ++c) {
        const int64_t o = p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) y[o + j] = s[j] * x[o + j];
      }
    });
    return;
  }
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
  VectorCursor cur(plan, v0);
  for (int64_t v = v0; v < v1; ++v, cur.next()) {
    const VectorPatch& p = cur.patch();
    double acc[4] = {0, 0, 0, 0};  // four partial sums: no single serial add chain
    for_each_element(p, [&](int64_t o, int64_t e) { acc[e & 3] += (double)x[o] * x[o]; });
    const double r2 = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    const T s = (T)scale(v, r2, p.dim());
    for_each_element(p, [&](int64_t o, int64_t) { y[o] = s * x[o]; });
  }
  });
}

// dx_v = s·g_v + (s′/r)(x_v·g_v)·x_v with {s, s′/r, ∂s/∂θ} = gate(v, r², d); returns
// Σ_v (x_v·g_v)·∂s/∂θ, and when per_vector is non-null also stores each vector's term
// (x_v·g_v)·∂s/∂θ there (per-group parameters and external gates sum them themselves).
// A zero vector (r = 0) or a vanishing s′/r contributes no second term: (v·g)·v is
// O(r²) while every gate's s′/r is O(1/r) at worst, so the term's limit at r = 0 is 0,
// and skipping it avoids 0·∞ at r = 0 or r = ∞. The Jacobian at v = 0 is s(0)·I.
template <class T, class Gate>
double vector_backward(const VectorPlan& plan, const T* x, const T* g, T* dx, Gate&& gate,
                       double* per_vector = nullptr) {
  // Per-thread partial sums of ∂L/∂θ, added in thread order: reproducible at any
  // thread count (an atomic add would depend on which thread finishes first).
  std::vector<double> parts(omp_get_max_threads(), 0.0);
  auto total = [&] {
    double dparam = 0;
    for (double v : parts) dparam += v;
    return dparam;
  };
  if (plan.is_channels()) {
    for_each_channel_tile(plan, [&](int64_t v, int64_t len, const VectorPatch& p) {
      double r2[kTile] = {}, dot[kTile] = {}, local = 0;
      for (int64_t c = 0; c < p.rows; ++c) {
        const int64_t o = p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) {
          r2[j] += (double)x[o + j] * x[o + j];
          dot[j] += (double)x[o + j] * g[o + j];
        }
      }
      T s[kTile], ct[kTile];
      for (int64_t j = 0; j < len; ++j) {
        const GateGrad q = gate(v + j, r2[j], p.rows);
        s[j] = (T)q.s;
        ct[j] = (T)((r2[j] == 0 || q.coef == 0) ? 0.0 : q.coef * dot[j]);
        const double term = q.dparam != 0 ? dot[j] * q.dparam : 0.0;
        local += term;
        if (per_vector) per_vector[v + j] = term;
      }
      for (int64_t c = 0; c < p.rows; ++c) {
        const int64_t o = p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) dx[o + j] = s[j] * g[o + j] + ct[j] * x[o + j];
      }
      parts[omp_get_thread_num()] += local;
    });
    return total();
  }
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
  double local = 0;
  VectorCursor cur(plan, v0);
  for (int64_t v = v0; v < v1; ++v, cur.next()) {
    const VectorPatch& p = cur.patch();
    double acc[4] = {0, 0, 0, 0}, dacc[4] = {0, 0, 0, 0};
    for_each_element(p, [&](int64_t o, int64_t e) {
      acc[e & 3] += (double)x[o] * x[o];
      dacc[e & 3] += (double)x[o] * g[o];
    });
    const double r2 = (acc[0] + acc[1]) + (acc[2] + acc[3]), dot = (dacc[0] + dacc[1]) + (dacc[2] + dacc[3]);
    const GateGrad q = gate(v, r2, p.dim());
    const double c = (r2 == 0 || q.coef == 0) ? 0.0 : q.coef * dot;
    const double term = q.dparam != 0 ? dot * q.dparam : 0.0;
    local += term;
    if (per_vector) per_vector[v] = term;
    const T s = (T)q.s, ct = (T)c;
    for_each_element(p, [&](int64_t o, int64_t) { dx[o] = s * g[o] + ct * x[o]; });
  }
  parts[omp_get_thread_num()] += local;
  });
  return total();
}

// out_v = scale[v]·in_v (one saved scale per vector).
template <class T>
void vector_scale(const VectorPlan& plan, const T* in, const T* scale, T* out) {
  if (plan.is_channels()) {
    for_each_channel_tile(plan, [&](int64_t v, int64_t len, const VectorPatch& p) {
      for (int64_t c = 0; c < p.rows; ++c) {
        const int64_t o = p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) out[o + j] = scale[v + j] * in[o + j];
      }
    });
    return;
  }
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
  VectorCursor cur(plan, v0);
  for (int64_t v = v0; v < v1; ++v, cur.next()) {
    const VectorPatch& p = cur.patch();
    for_each_element(p, [&](int64_t o, int64_t) { out[o] = scale[v] * in[o]; });
  }
  });
}

// out[v] = Σ a_e·b_e over the elements of vector v, accumulated in double (b = a gives
// ‖v‖²).
template <class T>
void vector_dots(const VectorPlan& plan, const T* a, const T* b, double* out) {
  if (plan.is_channels()) {
    for_each_channel_tile(plan, [&](int64_t v, int64_t len, const VectorPatch& p) {
      double dot[kTile] = {};
      for (int64_t c = 0; c < p.rows; ++c) {
        const int64_t o = p.base + c * p.row_stride;
        for (int64_t j = 0; j < len; ++j) dot[j] += (double)a[o + j] * b[o + j];
      }
      for (int64_t j = 0; j < len; ++j) out[v + j] = dot[j];
    });
    return;
  }
  for_each_vector_range(plan, [&](int64_t v0, int64_t v1) {
    VectorCursor cur(plan, v0);
    for (int64_t v = v0; v < v1; ++v, cur.next()) {
      double acc[4] = {0, 0, 0, 0};
      for_each_element(cur.patch(), [&](int64_t o, int64_t e) { acc[e & 3] += (double)a[o] * b[o]; });
      out[v] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  });
}

}  // namespace tg::act
