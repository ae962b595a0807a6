#include "layers/batchnorm.h"

#include "core/conv.h"

namespace tg {

using namespace ops;

// Forward: y = (x − mean)·invstd·weight + bias, invstd = 1/√(var + eps), with batch or
// running statistics; backward: core's batch_norm_backward (math in core/conv.h).
Variable batch_norm(const Variable& x, const Tensor& running_mean, const Tensor& running_var,
                    const Variable& weight, const Variable& bias, bool training, double momentum, double eps) {
  TG_CHECK(x.dim() >= 2, "batch_norm", "expected an input [N, C, ...] of rank >= 2, got shape {}",
           shape_str(x.shape()));
  TG_CHECK(running_mean.defined() == running_var.defined(), "batch_norm",
           "running_mean and running_var must be given together");
  TG_CHECK(training || running_mean.defined(), "batch_norm", "evaluation mode needs running_mean and running_var");
  for (const Tensor* t : {&running_mean, &running_var})
    TG_CHECK(!t->defined() || (t->dim() == 1 && t->size(0) == x.size(1) && t->dtype() == x.dtype()), "batch_norm",
             "running statistic of shape {} and dtype {} does not match {} channels of input {} ({})",
             shape_str(t->shape()), dtype_name(t->dtype()), x.size(1), shape_str(x.shape()), dtype_name(x.dtype()));
  Tensor mean, var;
  if (training) {
    const int64_t M = x.numel() / x.size(1);
    TG_CHECK(M > 1, "batch_norm", "expected more than 1 value per channel when training, got input of shape {}",
             shape_str(x.shape()));
    BatchNormStats s = batch_norm_stats(x.data());
    mean = s.mean;
    var = s.var;
    if (running_mean.defined()) {
      running_mean.mul_(1 - momentum).add_(mean, momentum);
      running_var.mul_(1 - momentum).add_(var, momentum * (double)M / (double)(M - 1));
    }
  } else {
    mean = running_mean.clone();
    var = running_var;
  }
  Tensor invstd = reciprocal(sqrt(add(var, eps)));
  Tensor xd = x.data();
  Tensor wd = weight.defined() ? weight.data() : Tensor();
  Tensor y = batch_norm_apply(xd, mean, invstd, wd, bias.defined() ? bias.data() : Tensor());
  return record("batch_norm", y, {x, weight, bias},
                [xd, mean, invstd, wd, training](const Tensor& g, const std::vector<bool>& needs) {
                  BatchNormGrads r = batch_norm_backward(g, xd, mean, invstd, wd, training, needs[0], needs[1],
                                                         needs[2]);
                  return std::vector<Tensor>{r.grad_x, r.grad_weight, r.grad_bias};
                });
}

BatchNorm2d::BatchNorm2d(int64_t c, double eps_, double momentum_, DType dtype)
    : weight(register_parameter("weight", ones({c}, dtype))),
      bias(register_parameter("bias", zeros({c}, dtype))),
      running_mean(register_buffer("running_mean", zeros({c}, dtype))),
      running_var(register_buffer("running_var", ones({c}, dtype))),
      num_batches_tracked(register_buffer("num_batches_tracked", zeros({}, kInt64))),
      num_features(c),
      eps(eps_),
      momentum(momentum_) {
  TG_CHECK(c > 0, "BatchNorm2d", "num_features must be positive, got {}", c);
}

Variable BatchNorm2d::forward(const Variable& x) {
  TG_CHECK(x.dim() == 4 && x.size(1) == num_features, "BatchNorm2d",
           "expected a 4-D input [N, {}, H, W], got shape {}", num_features, shape_str(x.shape()));
  Variable y = batch_norm(x, running_mean, running_var, weight, bias, training_, momentum, eps);
  if (training_) num_batches_tracked.fill_(num_batches_tracked.item() + 1);
  return y;
}

}  // namespace tg
