#pragma once
// Weight initialization, as torch.nn.init. Fans follow torch: for a weight of shape
// [out, in, k...], fan_in = in·∏k and fan_out = out·∏k. All fill in place from the
// given generator (the default one when null), drawing on the tensor's device.
#include "core/random.h"
#include "core/tensor.h"

namespace tg::init {

enum class FanMode { FanIn, FanOut };

void fans(const Tensor& w, int64_t& fan_in, int64_t& fan_out);
// Recommended gain for a nonlinearity: "linear"/"sigmoid" 1, "relu" √2, "tanh" 5/3,
// "leaky_relu" √(2/(1+a²)), "selu" 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(const Tensor& w, double lo, double hi, Generator* gen = nullptr);
void normal_(const Tensor& w, double mean, double std, Generator* gen = nullptr);
void constant_(const Tensor& w, double value);
// He/Kaiming: std = gain/√fan (normal) or bound = gain·√(3/fan) (uniform).
void kaiming_normal_(const Tensor& w, double gain = 1.4142135623730951, FanMode mode = FanMode::FanIn,
                     Generator* gen = nullptr);
void kaiming_uniform_(const Tensor& w, double gain = 1.4142135623730951, FanMode mode = FanMode::FanIn,
                      Generator* gen = nullptr);
// Glorot/Xavier: std = gain·√(2/(fan_in+fan_out)), bound = gain·√(6/(fan_in+fan_out)).
void xavier_normal_(const Tensor& w, double gain = 1.0, Generator* gen = nullptr);
void xavier_uniform_(const Tensor& w, double gain = 1.0, Generator* gen = nullptr);
// LeCun normal: std = 1/√fan_in (the initialization SELU's self-normalization assumes).
void lecun_normal_(const Tensor& w, Generator* gen = nullptr);

}  // namespace tg::init
