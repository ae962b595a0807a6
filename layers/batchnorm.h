#pragma once
// Batch normalization, as torch.nn.functional.batch_norm and torch.nn.BatchNorm2d.
// In training, each channel is normalized with the batch's mean and biased variance,
// and the running statistics move toward the batch's:
//   running_mean ← (1 − momentum)·running_mean + momentum·mean
//   running_var  ← (1 − momentum)·running_var  + momentum·var·M/(M − 1)   (unbiased)
// with M the number of values per channel. In evaluation the running statistics are used.
#include "layers/module.h"

namespace tg {

// x [N, C, ...]; running_mean/running_var [C] (updated in place when training; may be
// undefined when training); weight/bias [C] or undefined. Needs M > 1 when training.
Variable batch_norm(const Variable& x, const Tensor& running_mean, const Tensor& running_var,
                    const Variable& weight = Variable(), const Variable& bias = Variable(), bool training = false,
                    double momentum = 0.1, double eps = 1e-5);

// Parameters weight (ones) and bias (zeros); buffers running_mean (zeros), running_var
// (ones) and num_batches_tracked (int64, counts training steps), named as torch's.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, DType dtype = kFloat32);
  Variable forward(const Variable& x) override;
  std::string name() const override { return "BatchNorm2d"; }
  std::string extra_repr() const override { return fmt::format("{}, eps={}, momentum={}", num_features, eps, momentum); }
  Variable& weight;
  Variable& bias;
  Tensor& running_mean;
  Tensor& running_var;
  Tensor& num_batches_tracked;
  const int64_t num_features;
  const double eps, momentum;
};

}  // namespace tg
