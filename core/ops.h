#pragma once
// Front functions of core ops: each checks shapes, dtypes and devices (throwing
// tg::Error that names the op and the offending values), allocates the result and
// dispatches to one kernel per backend (core/cpu, core/cuda). No gradients here.
//
// The Tensor math lives in namespace tg::ops, apart from the differentiable ops of the
// same names (autograd/functions.h): exp(v) is always the recorded op, ops::exp(t) the
// plain Tensor function, so neither is picked by accident. Code of the library itself
// opens `using namespace ops;` where it computes on Tensors.
//
// Broadcasting follows NumPy: shapes are aligned at the trailing dimension, and a
// dimension of size 1 stretches to the other. Mixed float32/float64 operands are an
// error (convert explicitly with .to(dtype)), as are operands on different devices.
#include <vector>

#include "core/tensor.h"

namespace tg {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

namespace ops {

// ---- elementwise ------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Comparisons return 1 or 0 in the operands' dtype; two int64 operands compare
// exactly for |values| <= 2^53 (accuracy: ops::sum(ops::eq(ops::argmax(logits, 1), target))).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor pow(const Tensor& a, double exponent);
Tensor rsub(const Tensor& a, double b);  // b - a

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);  // use ±infinity for a one-sided clamp
// where(cond, a, b): a where cond != 0, else b; all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- reductions (dims may be negative; empty dims = all) ----------------------------
// float32, float64, and int64 (exact while the sum stays within ±2^53).
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Variance with Bessel's correction (correction = 1) by default, as torch.var.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // int64
Tensor max(const Tensor& x);  // 0-d, over all elements
// Sums `x` down to `shape` (the inverse of broadcasting), as the backward of broadcasting ops needs.
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- linear algebra -------------------------------------------------------------------
// matmul: 1-D·1-D, 2-D×2-D, and batched (leading dims broadcast) through the backend's GEMM.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- joining, indexing ------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// out[i, ...] = x[i, index[i], ...] along dim (index int64, same shape as out).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Adds src into a zero tensor of `shape` at index along dim (the adjoint of gather).
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace ops

// ---- operators --------------------------------------------------------------------
inline Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return ops::mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return ops::div(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return ops::add(b, a); }
inline Tensor operator-(double a, const Tensor& b) { return ops::rsub(b, a); }
inline Tensor operator*(double a, const Tensor& b) { return ops::mul(b, a); }
inline Tensor operator-(const Tensor& x) { return ops::neg(x); }

// ---- comparison helper for tests ----------------------------------------------------
// True when |a - b| <= atol + rtol * |b| elementwise (shapes must match; NaN == NaN
// when equal_nan).
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);

}  // namespace tg
