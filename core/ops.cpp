#include "core/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/backend.h"

namespace tg {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    TG_CHECK(da == db || da == 1 || db == 1, op, "shapes {} and {} cannot be broadcast together", shape_str(a),
             shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace ops {

static void check_defined(const Tensor& t, const char* op) { TG_CHECK(t.defined(), op, "undefined tensor argument"); }

static void check_float(const Tensor& t, const char* op) {
  check_defined(t, op);
  TG_CHECK(is_floating(t.dtype()), op, "expected a float32 or float64 tensor, got {}", dtype_name(t.dtype()));
}

static void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_float(a, op);
  check_float(b, op);
  TG_CHECK(a.dtype() == b.dtype(), op, "dtype mismatch: {} and {} (convert one with .to(dtype))",
           dtype_name(a.dtype()), dtype_name(b.dtype()));
  TG_CHECK(a.device() == b.device(), op, "device mismatch: {} and {}", a.device().str(), b.device().str());
}

static Tensor binary(BinaryOp bop, const Tensor& a, const Tensor& b, const char* op) {
  check_pair(a, b, op);
  Shape s = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(s, a.dtype(), a.device());
  binary_stub(a.device(), op, bop, a.expand(s), b.expand(s), out);
  return out;
}

static Tensor unary(UnaryOp uop, const Tensor& x, const char* op, double p0 = 0, double p1 = 0) {
  check_float(x, op);
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  unary_stub(x.device(), op, uop, x, out, p0, p1);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b, "add"); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b, "sub"); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b, "mul"); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b, "div"); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, a, b, "pow"); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Max, a, b, "maximum"); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Min, a, b, "minimum"); }

// Two int64 operands are compared through float64 (exact for |v| <= 2^53: class
// labels, indices, counts), so every backend's float kernels serve them.
static Tensor compare(BinaryOp bop, const Tensor& a, const Tensor& b, const char* op) {
  if (a.defined() && b.defined() && a.dtype() == kInt64 && b.dtype() == kInt64)
    return binary(bop, a.to(kFloat64), b.to(kFloat64), op).to(kInt64);
  return binary(bop, a, b, op);
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ge, a, b, "ge"); }

Tensor add(const Tensor& a, double b) { return unary(UnaryOp::AddScalar, a, "add", b); }
Tensor sub(const Tensor& a, double b) { return unary(UnaryOp::AddScalar, a, "sub", -b); }
Tensor mul(const Tensor& a, double b) { return unary(UnaryOp::MulScalar, a, "mul", b); }
Tensor div(const Tensor& a, double b) { return unary(UnaryOp::MulScalar, a, "div", 1.0 / b); }
Tensor pow(const Tensor& a, double e) { return unary(UnaryOp::PowScalar, a, "pow", e); }
Tensor rsub(const Tensor& a, double b) { return unary(UnaryOp::RSubScalar, a, "rsub", b); }

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x, "neg"); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x, "exp"); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x, "log"); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x, "sqrt"); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x, "abs"); }
Tensor sign(const Tensor& x) { return unary(UnaryOp::Sign, x, "sign"); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x, "square"); }
Tensor reciprocal(const Tensor& x) { return unary(UnaryOp::Reciprocal, x, "reciprocal"); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  TG_CHECK(!(lo > hi), "clamp", "lower bound {} exceeds upper bound {}", lo, hi);
  return unary(UnaryOp::Clamp, x, "clamp", lo, hi);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_pair(a, b, "where");
  check_float(cond, "where");
  TG_CHECK(cond.dtype() == a.dtype(), "where", "condition dtype {} differs from value dtype {}",
           dtype_name(cond.dtype()), dtype_name(a.dtype()));
  TG_CHECK(cond.device() == a.device(), "where", "device mismatch: {} and {}", cond.device().str(), a.device().str());
  Shape s = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(s, a.dtype(), a.device());
  where_stub(a.device(), "where", cond.expand(s), a.expand(s), b.expand(s), out);
  return out;
}

// ---- reductions -----------------------------------------------------------------------
static std::vector<int64_t> norm_dims(const std::vector<int64_t>& dims, int64_t rank, const char* op) {
  std::vector<int64_t> d;
  if (dims.empty()) {
    for (int64_t i = 0; i < rank; ++i) d.push_back(i);
  } else {
    for (int64_t x : dims) d.push_back(wrap_dim(x, rank, op));
  }
  std::sort(d.begin(), d.end());
  TG_CHECK(std::adjacent_find(d.begin(), d.end()) == d.end(), op, "repeated dim in {}", shape_str(dims));
  if (rank == 0) d.clear();
  return d;
}

static Shape kept_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k = s;
  for (int64_t d : dims) k[d] = 1;
  return k;
}

static Shape dropped_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k;
  for (int64_t i = 0; i < (int64_t)s.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), i)) k.push_back(s[i]);
  return k;
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  // int64 sums accumulate in float64: exact while the sum stays within ±2^53.
  if (x.defined() && x.dtype() == kInt64) return sum(x.to(kFloat64), dims, keepdim).to(kInt64);
  check_float(x, "sum");
  auto d = norm_dims(dims, x.dim(), "sum");
  Tensor out = empty(kept_shape(x.shape(), d), x.dtype(), x.device());
  reduce_stub(x.device(), "sum", ReduceOp::Sum, x, d, out, Tensor());
  return keepdim ? out : out.view(dropped_shape(x.shape(), d));
}

static int64_t reduced_count(const Tensor& x, const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t i : d) n *= x.size(i);
  return n;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_float(x, "mean");
  auto d = norm_dims(dims, x.dim(), "mean");
  const int64_t n = reduced_count(x, d);
  TG_CHECK(n > 0, "mean", "mean over an empty set of elements (shape {})", shape_str(x.shape()));
  Tensor s = sum(x, d, keepdim);
  s.mul_(1.0 / (double)n);
  return s;
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  check_float(x, "var");
  auto d = norm_dims(dims, x.dim(), "var");
  const int64_t n = reduced_count(x, d);
  TG_CHECK(n - correction > 0, "var", "{} elements are too few for correction {} (shape {})", n, correction,
           shape_str(x.shape()));
  Tensor dev = sub(x, mean(x, d, true));
  Tensor s = sum(square(dev), d, keepdim);
  s.mul_(1.0 / (double)(n - correction));
  return s;
}

static Tensor extremum(ReduceOp rop, const Tensor& x, int64_t dim, bool keepdim, Tensor* index, const char* op) {
  check_float(x, op);
  dim = wrap_dim(dim, x.dim(), op);
  std::vector<int64_t> d = x.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
  TG_CHECK(x.dim() == 0 || x.size(dim) > 0, op, "reduction over an empty dim {} of shape {}", dim,
           shape_str(x.shape()));
  Shape ks = kept_shape(x.shape(), d);
  Tensor out = empty(ks, x.dtype(), x.device());
  Tensor idx = empty(ks, kInt64, x.device());
  reduce_stub(x.device(), op, rop, x, d, out, idx);
  if (!keepdim) {
    out = out.view(dropped_shape(x.shape(), d));
    idx = idx.view(dropped_shape(x.shape(), d));
  }
  if (index) *index = idx;
  return out;
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return extremum(ReduceOp::Max, x, dim, keepdim, nullptr, "max"); }
Tensor min(const Tensor& x, int64_t dim, bool keepdim) { return extremum(ReduceOp::Min, x, dim, keepdim, nullptr, "min"); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  Tensor idx;
  extremum(ReduceOp::Max, x, dim, keepdim, &idx, "argmax");
  return idx;
}

Tensor max(const Tensor& x) {
  check_float(x, "max");
  TG_CHECK(x.numel() > 0, "max", "max of an empty tensor");
  auto d = norm_dims({}, x.dim(), "max");
  Tensor out = empty(kept_shape(x.shape(), d), x.dtype(), x.device());
  reduce_stub(x.device(), "max", ReduceOp::Max, x, d, out, Tensor());
  return out.view({});
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  TG_CHECK(x.dim() >= (int64_t)shape.size(), "sum_to", "cannot sum shape {} to {}", shape_str(x.shape()),
           shape_str(shape));
  const int64_t lead = x.dim() - (int64_t)shape.size();
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
    } else if (shape[i - lead] == 1 && x.size(i) != 1) {
      dims.push_back(i);
    } else {
      TG_CHECK(shape[i - lead] == x.size(i), "sum_to", "cannot sum shape {} to {}", shape_str(x.shape()),
               shape_str(shape));
    }
  }
  Tensor s = dims.empty() ? x : sum(x, dims, true);
  return s.view(shape);
}

// ---- matmul ---------------------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "matmul");
  TG_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul", "both operands need at least 1 dim, got {} and {}",
           shape_str(a.shape()), shape_str(b.shape()));
  Tensor A = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor B = b.dim() == 1 ? b.unsqueeze(1) : b;
  const int64_t M = A.size(-2), K = A.size(-1), K2 = B.size(-2), N = B.size(-1);
  TG_CHECK(K == K2, "matmul", "inner dimensions differ: {} @ {}", shape_str(a.shape()), shape_str(b.shape()));
  Shape ba(A.shape().begin(), A.shape().end() - 2), bb(B.shape().begin(), B.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  const int64_t nb = shape_numel(batch);
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {M, K});
  eb.insert(eb.end(), {K, N});
  // Each operand becomes a [nb, rows, cols] tensor whose matrices are row- or
  // column-major (a transposed view stays a view); anything else is copied.
  auto as3 = [&](const Tensor& t, const Shape& e, int64_t r, int64_t c) {
    Tensor x = t.expand(e);
    auto ok = [&](const Tensor& v) {
      const int64_t sr = v.stride(-2), sc = v.stride(-1);
      return (sc == 1 && (sr == c || r == 1)) || (sr == 1 && (sc == r || c == 1));
    };
    Tensor y = x;
    if (!ok(y)) y = x.contiguous();
    if (batch.empty()) return y.unsqueeze(0);
    Tensor flat_batch = y.reshape({nb, r, c});
    // reshape copies when the batch dims do not merge; keep the matrix layout valid.
    if (!ok(flat_batch)) flat_batch = flat_batch.contiguous();
    return flat_batch;
  };
  Tensor A3 = as3(A, ea, M, K), B3 = as3(B, eb, K, N);
  Tensor out = empty({nb, M, N}, a.dtype(), a.device());
  matmul_stub(a.device(), "matmul", A3, B3, out);
  Shape os = batch;
  if (a.dim() > 1) os.push_back(M);
  if (b.dim() > 1) os.push_back(N);
  return out.view(os);
}

// ---- joining ------------------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  TG_CHECK(!xs.empty(), "concat", "expected at least one tensor");
  const Tensor& f = xs[0];
  check_defined(f, "concat");
  dim = wrap_dim(dim, f.dim(), "concat");
  Shape s = f.shape();
  int64_t total = 0;
  for (const Tensor& t : xs) {
    check_defined(t, "concat");
    TG_CHECK(t.dtype() == f.dtype(), "concat", "dtype mismatch: {} and {}", dtype_name(f.dtype()),
             dtype_name(t.dtype()));
    TG_CHECK(t.device() == f.device(), "concat", "device mismatch: {} and {}", f.device().str(), t.device().str());
    TG_CHECK(t.dim() == f.dim(), "concat", "rank mismatch: {} and {}", shape_str(f.shape()), shape_str(t.shape()));
    for (int64_t i = 0; i < f.dim(); ++i)
      TG_CHECK(i == dim || t.size(i) == f.size(i), "concat", "shapes {} and {} differ outside dim {}",
               shape_str(f.shape()), shape_str(t.shape()), dim);
    total += t.size(dim);
  }
  s[dim] = total;
  Tensor out = empty(s, f.dtype(), f.device());
  int64_t at = 0;
  for (const Tensor& t : xs) {
    out.narrow(dim, at, t.size(dim)).copy_(t);
    at += t.size(dim);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  TG_CHECK(!xs.empty(), "stack", "expected at least one tensor");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> u;
  for (const Tensor& t : xs) {
    TG_CHECK(t.shape() == xs[0].shape(), "stack", "shapes differ: {} and {}", shape_str(xs[0].shape()),
             shape_str(t.shape()));
    u.push_back(t.unsqueeze(dim));
  }
  return concat(u, dim);
}

static void check_index(const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  check_defined(index, op);
  TG_CHECK(index.dtype() == kInt64, op, "index must be int64, got {}", dtype_name(index.dtype()));
  TG_CHECK(index.dim() == x.dim(), op, "index rank {} differs from input rank {} ({} vs {})", index.dim(), x.dim(),
           shape_str(index.shape()), shape_str(x.shape()));
  for (int64_t i = 0; i < x.dim(); ++i)
    TG_CHECK(i == dim || index.size(i) == x.size(i), op, "index shape {} does not match {} outside dim {}",
             shape_str(index.shape()), shape_str(x.shape()), dim);
  TG_CHECK(index.device() == x.device(), op, "device mismatch: {} and {}", x.device().str(), index.device().str());
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_float(x, "gather");
  dim = wrap_dim(dim, x.dim(), "gather");
  check_index(x, dim, index, "gather");
  Tensor out = empty(index.shape(), x.dtype(), x.device());
  gather_stub(x.device(), "gather", x, dim, index, out);
  return out;
}

Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  check_float(src, "scatter_add");
  dim = wrap_dim(dim, (int64_t)shape.size(), "scatter_add");
  Tensor out = zeros(shape, src.dtype(), src.device());
  check_index(out, dim, index, "scatter_add");
  TG_CHECK(src.shape() == index.shape(), "scatter_add", "src shape {} differs from index shape {}",
           shape_str(src.shape()), shape_str(index.shape()));
  scatter_add_stub(src.device(), "scatter_add", out, dim, index, src);
  return out;
}

}  // namespace ops

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  TG_CHECK(a.shape() == b.shape(), "allclose", "shapes differ: {} and {}", shape_str(a.shape()), shape_str(b.shape()));
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) {
      if (!(equal_nan && std::isnan(x[i]) && std::isnan(y[i]))) return false;
      continue;
    }
    if (std::isinf(x[i]) || std::isinf(y[i])) {
      if (x[i] != y[i]) return false;
      continue;
    }
    if (std::abs(x[i] - y[i]) > atol + rtol * std::abs(y[i])) return false;
  }
  return true;
}

}  // namespace tg
