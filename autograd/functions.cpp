#include "autograd/functions.h"

#include <cmath>

namespace tg {

using namespace ops;

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

// ---- elementwise -------------------------------------------------------------------
// z = a + b:  dz/da = 1, dz/db = 1 (reduced over broadcast dims).
Variable add(const Variable& a, const Variable& b) {
  Shape sa = a.shape(), sb = b.shape();
  return record("add", ops::add(a.data(), b.data()), {a, b}, [sa, sb](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(g, sa) : Tensor(), n[1] ? sum_to(g, sb) : Tensor()};
  });
}

Variable sub(const Variable& a, const Variable& b) {
  Shape sa = a.shape(), sb = b.shape();
  return record("sub", ops::sub(a.data(), b.data()), {a, b}, [sa, sb](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(g, sa) : Tensor(), n[1] ? sum_to(ops::neg(g), sb) : Tensor()};
  });
}

// z = a·b:  dz/da = b, dz/db = a.
Variable mul(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  return record("mul", ops::mul(ta, tb), {a, b}, [ta, tb](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(ops::mul(g, tb), ta.shape()) : Tensor(),
                 n[1] ? sum_to(ops::mul(g, ta), tb.shape()) : Tensor()};
  });
}

// z = a/b:  dz/da = 1/b, dz/db = −a/b² = −z/b.
Variable div(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  Tensor z = ops::div(ta, tb);
  return record("div", z, {a, b}, [ta, tb, z](const Tensor& g, const Needs& n) {
    Tensor gb = ops::div(g, tb);
    return Grads{n[0] ? sum_to(gb, ta.shape()) : Tensor(), n[1] ? sum_to(ops::neg(ops::mul(gb, z)), tb.shape()) : Tensor()};
  });
}

// z = a^b:  dz/da = b·a^(b−1), dz/db = z·log(a).
Variable pow(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  Tensor z = ops::pow(ta, tb);
  return record("pow", z, {a, b}, [ta, tb, z](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(g * tb * ops::pow(ta, ops::sub(tb, 1.0)), ta.shape()) : Tensor(),
                 n[1] ? sum_to(g * z * ops::log(ta), tb.shape()) : Tensor()};
  });
}

// max(a, b): the gradient goes to a where a >= b, else to b.
Variable maximum(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  return record("maximum", ops::maximum(ta, tb), {a, b}, [ta, tb](const Tensor& g, const Needs& n) {
    Tensor m = ops::ge(ta, tb);
    return Grads{n[0] ? sum_to(g * m, ta.shape()) : Tensor(), n[1] ? sum_to(g * ops::rsub(m, 1.0), tb.shape()) : Tensor()};
  });
}

Variable minimum(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  return record("minimum", ops::minimum(ta, tb), {a, b}, [ta, tb](const Tensor& g, const Needs& n) {
    Tensor m = ops::le(ta, tb);
    return Grads{n[0] ? sum_to(g * m, ta.shape()) : Tensor(), n[1] ? sum_to(g * ops::rsub(m, 1.0), tb.shape()) : Tensor()};
  });
}

Variable add(const Variable& a, double b) {
  return record("add", ops::add(a.data(), b), {a}, [](const Tensor& g, const Needs&) { return Grads{g}; });
}
Variable sub(const Variable& a, double b) { return add(a, -b); }
Variable rsub(const Variable& a, double b) {
  return record("rsub", ops::rsub(a.data(), b), {a}, [](const Tensor& g, const Needs&) { return Grads{ops::neg(g)}; });
}
Variable mul(const Variable& a, double b) {
  return record("mul", ops::mul(a.data(), b), {a}, [b](const Tensor& g, const Needs&) { return Grads{ops::mul(g, b)}; });
}
Variable div(const Variable& a, double b) { return mul(a, 1.0 / b); }

// z = x^p:  dz/dx = p·x^(p−1).
Variable pow(const Variable& a, double p) {
  Tensor x = a.data();
  return record("pow", ops::pow(x, p), {a}, [x, p](const Tensor& g, const Needs&) {
    return Grads{p == 2.0 ? ops::mul(g, ops::mul(x, 2.0)) : ops::mul(g, ops::mul(ops::pow(x, p - 1.0), p))};
  });
}

Variable neg(const Variable& x) {
  return record("neg", ops::neg(x.data()), {x}, [](const Tensor& g, const Needs&) { return Grads{ops::neg(g)}; });
}

// z = eˣ: dz/dx = z (saves the output only).
Variable exp(const Variable& x) {
  Tensor z = ops::exp(x.data());
  return record("exp", z, {x}, [z](const Tensor& g, const Needs&) { return Grads{ops::mul(g, z)}; });
}

Variable log(const Variable& x) {
  Tensor t = x.data();
  return record("log", ops::log(t), {x}, [t](const Tensor& g, const Needs&) { return Grads{ops::div(g, t)}; });
}

// z = √x: dz/dx = 1/(2z).
Variable sqrt(const Variable& x) {
  Tensor z = ops::sqrt(x.data());
  return record("sqrt", z, {x}, [z](const Tensor& g, const Needs&) { return Grads{ops::div(g, ops::mul(z, 2.0))}; });
}

Variable abs(const Variable& x) {
  Tensor t = x.data();
  return record("abs", ops::abs(t), {x}, [t](const Tensor& g, const Needs&) { return Grads{ops::mul(g, ops::sign(t))}; });
}

Variable square(const Variable& x) { return pow(x, 2.0); }

Variable clamp(const Variable& x, double lo, double hi) {
  Tensor t = x.data();
  return record("clamp", ops::clamp(t, lo, hi), {x}, [t, lo, hi](const Tensor& g, const Needs&) {
    Tensor inside = ops::mul(ops::ge(t, full({}, lo, t.dtype(), t.device())), ops::le(t, full({}, hi, t.dtype(), t.device())));
    return Grads{ops::mul(g, inside)};
  });
}

Variable where(const Tensor& cond, const Variable& a, const Variable& b) {
  Shape sa = a.shape(), sb = b.shape();
  return record("where", ops::where(cond, a.data(), b.data()), {a, b}, [cond, sa, sb](const Tensor& g, const Needs& n) {
    Tensor z = zeros({}, g.dtype(), g.device());
    return Grads{n[0] ? sum_to(ops::where(cond, g, z), sa) : Tensor(), n[1] ? sum_to(ops::where(cond, z, g), sb) : Tensor()};
  });
}

// ---- reductions ------------------------------------------------------------------------
// Shape of a reduction's output with keepdim, so the gradient can be broadcast back.
static Shape keep_shape(const Shape& s, std::vector<int64_t> dims) {
  Shape k = s;
  if (dims.empty())
    for (auto& d : k) d = 1;
  for (int64_t d : dims) k[wrap_dim(d, (int64_t)s.size(), "reduce")] = 1;
  return k;
}

Variable sum(const Variable& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape s = x.shape(), k = keep_shape(x.shape(), dims);
  return record("sum", ops::sum(x.data(), dims, keepdim), {x},
                [s, k](const Tensor& g, const Needs&) { return Grads{g.reshape(k).expand(s)}; });
}

Variable mean(const Variable& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape s = x.shape(), k = keep_shape(x.shape(), dims);
  const double n = (double)shape_numel(s) / (double)shape_numel(k);
  return record("mean", ops::mean(x.data(), dims, keepdim), {x},
                [s, k, n](const Tensor& g, const Needs&) { return Grads{ops::mul(g.reshape(k), 1.0 / n).expand(s)}; });
}

// var = Σ(x−μ)²/(n−c):  dvar/dx = 2(x−μ)/(n−c) (the μ term cancels since Σ(x−μ) = 0).
Variable var(const Variable& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  Tensor t = x.data();
  Shape k = keep_shape(x.shape(), dims);
  const double n = (double)shape_numel(t.shape()) / (double)shape_numel(k);
  std::vector<int64_t> d = dims;
  return record("var", ops::var(t, dims, correction, keepdim), {x}, [t, k, n, d, correction](const Tensor& g, const Needs&) {
    Tensor dev = ops::sub(t, ops::mean(t, d, true));
    return Grads{ops::mul(ops::mul(g.reshape(k), dev), 2.0 / (n - (double)correction))};
  });
}

Variable max(const Variable& x, int64_t dim, bool keepdim) {
  Tensor t = x.data();
  dim = wrap_dim(dim, t.dim(), "max");
  Tensor idx = ops::argmax(t, dim, true);
  Tensor values = ops::gather(t, dim, idx);
  Shape s = t.shape();
  return record("max", keepdim ? values : values.squeeze(dim), {x}, [idx, s, dim](const Tensor& g, const Needs&) {
    return Grads{ops::scatter_add(s, dim, idx, g.reshape(idx.shape()).contiguous())};
  });
}

// ---- linear algebra, joining -------------------------------------------------------------
// C = A·B:  dA = dC·Bᵀ, dB = Aᵀ·dC (batched; broadcast batch dims are summed).
Variable matmul(const Variable& a, const Variable& b) {
  Tensor ta = a.data(), tb = b.data();
  return record("matmul", ops::matmul(ta, tb), {a, b}, [ta, tb](const Tensor& g, const Needs& n) {
    // Promote 1-D operands to matrices so the same two products cover every case.
    Tensor A = ta.dim() == 1 ? ta.unsqueeze(0) : ta;
    Tensor B = tb.dim() == 1 ? tb.unsqueeze(1) : tb;
    Shape gs = broadcast_shapes(Shape(A.shape().begin(), A.shape().end() - 2),
                                Shape(B.shape().begin(), B.shape().end() - 2), "matmul");
    gs.insert(gs.end(), {A.size(-2), B.size(-1)});
    Tensor G = g.reshape(gs);
    Tensor ga, gb;
    if (n[0]) ga = sum_to(ops::matmul(G, B.transpose(-1, -2)), A.shape()).reshape(ta.shape());
    if (n[1]) gb = sum_to(ops::matmul(A.transpose(-1, -2), G), B.shape()).reshape(tb.shape());
    return Grads{ga, gb};
  });
}

Variable concat(const std::vector<Variable>& xs, int64_t dim) {
  std::vector<Tensor> ts;
  std::vector<int64_t> sizes;
  for (const Variable& v : xs) ts.push_back(v.data());
  Tensor out = ops::concat(ts, dim);
  dim = wrap_dim(dim, out.dim(), "concat");
  for (const Tensor& t : ts) sizes.push_back(t.size(dim));
  return record("concat", out, xs, [sizes, dim](const Tensor& g, const Needs&) {
    Grads gs;
    int64_t at = 0;
    for (int64_t s : sizes) {
      gs.push_back(g.narrow(dim, at, s));
      at += s;
    }
    return gs;
  });
}

Variable stack(const std::vector<Variable>& xs, int64_t dim) {
  TG_CHECK(!xs.empty(), "stack", "expected at least one variable");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Variable> u;
  for (const Variable& v : xs) u.push_back(unsqueeze(v, dim));
  return concat(u, dim);
}

Variable gather(const Variable& x, int64_t dim, const Tensor& index) {
  Shape s = x.shape();
  dim = wrap_dim(dim, x.dim(), "gather");
  return record("gather", ops::gather(x.data(), dim, index), {x}, [s, dim, index](const Tensor& g, const Needs&) {
    return Grads{ops::scatter_add(s, dim, index, g.contiguous())};
  });
}

// ---- views: the gradient is the inverse view (or a copy into a zero tensor) ----------------
Variable reshape(const Variable& x, const Shape& shape) {
  Shape s = x.shape();
  return record("reshape", x.data().reshape(shape), {x},
                [s](const Tensor& g, const Needs&) { return Grads{g.reshape(s)}; });
}

Variable view(const Variable& x, const Shape& shape) {
  Shape s = x.shape();
  return record("view", x.data().view(shape), {x}, [s](const Tensor& g, const Needs&) { return Grads{g.reshape(s)}; });
}

Variable permute(const Variable& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[wrap_dim(dims[i], x.dim(), "permute")] = (int64_t)i;
  return record("permute", x.data().permute(dims), {x},
                [inv](const Tensor& g, const Needs&) { return Grads{g.permute(inv)}; });
}

Variable transpose(const Variable& x, int64_t d0, int64_t d1) {
  return record("transpose", x.data().transpose(d0, d1), {x},
                [d0, d1](const Tensor& g, const Needs&) { return Grads{g.transpose(d0, d1)}; });
}

// Gradient of a strided sub-view: zeros with g written into the same sub-view.
template <class ViewFn>
static Variable subview(const char* name, const Variable& x, ViewFn fn) {
  Shape s = x.shape();
  DType dt = x.dtype();
  Device dev = x.device();
  return record(name, fn(x.data()), {x}, [s, dt, dev, fn](const Tensor& g, const Needs&) {
    Tensor z = zeros(s, dt, dev);
    fn(z).copy_(g);
    return Grads{z};
  });
}

Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length) {
  return subview("narrow", x, [=](const Tensor& t) { return t.narrow(dim, start, length); });
}
Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return subview("slice", x, [=](const Tensor& t) { return t.slice(dim, start, end, step); });
}
Variable select(const Variable& x, int64_t dim, int64_t index) {
  return subview("select", x, [=](const Tensor& t) { return t.select(dim, index); });
}

Variable squeeze(const Variable& x, int64_t dim) { return reshape(x, x.data().squeeze(dim).shape()); }
Variable unsqueeze(const Variable& x, int64_t dim) { return reshape(x, x.data().unsqueeze(dim).shape()); }
Variable flatten(const Variable& x, int64_t start_dim, int64_t end_dim) {
  return reshape(x, x.data().flatten(start_dim, end_dim).shape());
}

Variable expand(const Variable& x, const Shape& shape) {
  Shape s = x.shape();
  return record("expand", x.data().expand(shape), {x}, [s](const Tensor& g, const Needs&) { return Grads{sum_to(g, s)}; });
}

Variable contiguous(const Variable& x) {
  if (x.data().is_contiguous()) return x;
  return record("contiguous", x.data().contiguous(), {x}, [](const Tensor& g, const Needs&) { return Grads{g}; });
}

}  // namespace tg
