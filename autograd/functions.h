#pragma once
// Differentiable ops on Variables. Each is a core op forward plus its backward rule,
// written once next to it in functions.cpp. Broadcasting ops reduce their gradients
// back to the input shapes (sum_to). Names and semantics follow torch.
#include <vector>

#include "autograd/variable.h"

namespace tg {

// ---- elementwise ----
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable pow(const Variable& a, const Variable& b);  // d/db uses log(a): keep a > 0
Variable maximum(const Variable& a, const Variable& b);  // ties send the gradient to a
Variable minimum(const Variable& a, const Variable& b);
Variable add(const Variable& a, double b);
Variable sub(const Variable& a, double b);
Variable rsub(const Variable& a, double b);  // b - a
Variable mul(const Variable& a, double b);
Variable div(const Variable& a, double b);
Variable pow(const Variable& a, double exponent);
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable abs(const Variable& x);     // subgradient 0 at 0
Variable square(const Variable& x);
Variable clamp(const Variable& x, double lo, double hi);  // gradient passes where lo <= x <= hi
Variable where(const Tensor& cond, const Variable& a, const Variable& b);

// ---- reductions ----
Variable sum(const Variable& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable mean(const Variable& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable var(const Variable& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1, bool keepdim = false);
Variable max(const Variable& x, int64_t dim, bool keepdim = false);  // gradient to the first maximum

// ---- linear algebra, joining ----
Variable matmul(const Variable& a, const Variable& b);
Variable concat(const std::vector<Variable>& xs, int64_t dim);
Variable stack(const std::vector<Variable>& xs, int64_t dim);
Variable gather(const Variable& x, int64_t dim, const Tensor& index);

// ---- views ----
Variable reshape(const Variable& x, const Shape& shape);
Variable view(const Variable& x, const Shape& shape);
Variable permute(const Variable& x, const std::vector<int64_t>& dims);
Variable transpose(const Variable& x, int64_t d0, int64_t d1);
Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length);
Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Variable select(const Variable& x, int64_t dim, int64_t index);
Variable squeeze(const Variable& x, int64_t dim);
Variable unsqueeze(const Variable& x, int64_t dim);
Variable expand(const Variable& x, const Shape& shape);
Variable flatten(const Variable& x, int64_t start_dim = 0, int64_t end_dim = -1);
Variable contiguous(const Variable& x);

// ---- operators ----
inline Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
inline Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
inline Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
inline Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
inline Variable operator+(const Variable& a, double b) { return add(a, b); }
inline Variable operator-(const Variable& a, double b) { return sub(a, b); }
inline Variable operator*(const Variable& a, double b) { return mul(a, b); }
inline Variable operator/(const Variable& a, double b) { return div(a, b); }
inline Variable operator*(double a, const Variable& b) { return mul(b, a); }
inline Variable operator+(double a, const Variable& b) { return add(b, a); }
inline Variable operator-(double a, const Variable& b) { return rsub(b, a); }
inline Variable operator-(const Variable& x) { return neg(x); }

}  // namespace tg
