#include "layers/loss.h"

namespace tg {

using namespace ops;

using Grads = std::vector<Tensor>;
using Needs = std::vector<bool>;

static Variable reduce(const Variable& per_element, Reduction r) {
  switch (r) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    case Reduction::None: return per_element;
  }
  return per_element;
}

// d/dx (x−y)² = 2(x−y), d/dy = −2(x−y).
Variable mse_loss(const Variable& input, const Variable& target, Reduction r) {
  TG_CHECK(input.dtype() == target.dtype(), "mse_loss", "dtype mismatch: {} and {}", dtype_name(input.dtype()),
           dtype_name(target.dtype()));
  broadcast_shapes(input.shape(), target.shape(), "mse_loss");
  Tensor diff = ops::sub(input.data(), target.data());
  TG_CHECK(diff.shape() == input.shape(), "mse_loss", "target shape {} would broadcast input shape {} to {}",
           shape_str(target.shape()), shape_str(input.shape()), shape_str(diff.shape()));
  Shape ts = target.shape();
  Variable sq = record("mse_loss", square(diff), {input, target}, [diff, ts](const Tensor& g, const Needs& n) {
    Tensor d = ops::mul(ops::mul(g, diff), 2.0);
    return Grads{n[0] ? d : Tensor(), n[1] ? sum_to(ops::neg(d), ts) : Tensor()};
  });
  return reduce(sq, r);
}

// loss_i = logsumexp(x_i) − x_i[t_i];  ∂loss_i/∂x_ij = softmax(x_i)_j − [j = t_i].
Variable cross_entropy(const Variable& logits, const Variable& target_variable, Reduction r) {
  const Tensor target = target_variable.defined() ? target_variable.data() : Tensor();
  TG_CHECK(logits.dim() == 2, "cross_entropy", "expected logits of shape [N, C], got {}", shape_str(logits.shape()));
  TG_CHECK(target.defined() && target.dtype() == kInt64, "cross_entropy", "targets must be int64 class indices, got {}",
           target.defined() ? dtype_name(target.dtype()) : "undefined");
  TG_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), "cross_entropy",
           "targets of shape {} do not match logits of shape {}", shape_str(target.shape()), shape_str(logits.shape()));
  const int64_t C = logits.size(1);
  for (int64_t t : target.to_vector<int64_t>())
    TG_CHECK(t >= 0 && t < C, "cross_entropy", "target {} out of range for {} classes", t, C);
  const Tensor& x = logits.data();
  Tensor m = ops::max(x, 1, true);
  Tensor e = ops::exp(ops::sub(x, m));
  Tensor s = ops::sum(e, {1}, true);
  Tensor idx = target.unsqueeze(1).to(x.device());
  Tensor loss = ops::sub(ops::add(ops::log(s), m), ops::gather(x, 1, idx)).view({x.size(0)});
  Tensor p = ops::div(e, s);
  Shape xs = x.shape();
  Variable per = record("cross_entropy", loss, {logits}, [p, idx, xs](const Tensor& g, const Needs&) {
    Tensor gc = g.reshape({xs[0], 1});
    return Grads{ops::sub(ops::mul(p, gc), ops::scatter_add(xs, 1, idx, gc.contiguous()))};
  });
  return reduce(per, r);
}

// ∂/∂x = σ(x) − y;  ∂/∂y = −x.
Variable binary_cross_entropy_with_logits(const Variable& logits, const Variable& target, Reduction r) {
  TG_CHECK(logits.shape() == target.shape(), "binary_cross_entropy_with_logits",
           "logits shape {} differs from target shape {}", shape_str(logits.shape()), shape_str(target.shape()));
  const Tensor& x = logits.data();
  const Tensor& y = target.data();
  Tensor ax = ops::abs(x);
  Tensor loss = ops::add(ops::sub(ops::maximum(x, zeros({}, x.dtype(), x.device())), ops::mul(x, y)),
                        ops::log(ops::add(ops::exp(ops::neg(ax)), 1.0)));
  Variable per = record("binary_cross_entropy_with_logits", loss, {logits, target}, [x, y](const Tensor& g, const Needs& n) {
    Tensor sig = ops::reciprocal(ops::add(ops::exp(ops::neg(x)), 1.0));
    return Grads{n[0] ? ops::mul(g, ops::sub(sig, y)) : Tensor(), n[1] ? ops::mul(g, ops::neg(x)) : Tensor()};
  });
  return reduce(per, r);
}

}  // namespace tg
