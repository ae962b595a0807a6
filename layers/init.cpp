#include "layers/init.h"

#include <cmath>

namespace tg::init {

void fans(const Tensor& w, int64_t& fan_in, int64_t& fan_out) {
  TG_CHECK(w.dim() >= 2, "init", "fan in and fan out need a tensor with at least 2 dims, got shape {}",
           shape_str(w.shape()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  fan_in = w.size(1) * receptive;
  fan_out = w.size(0) * receptive;
}

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "sigmoid" || nl == "conv2d") return 1.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nl == "selu") return 0.75;
  throw Error("calculate_gain: unsupported nonlinearity '" + nl + "'");
}

// Drawn on w's device, so initializing a parameter that already lives on a GPU gives
// the CPU's numbers (as core/random.h says) without a host round trip.
void uniform_(const Tensor& w, double lo, double hi, Generator* gen) {
  w.copy_(uniform(w.shape(), lo, hi, w.dtype(), w.device(), gen));
}

void normal_(const Tensor& w, double mean, double std, Generator* gen) {
  w.copy_(normal(w.shape(), mean, std, w.dtype(), w.device(), gen));
}

void constant_(const Tensor& w, double value) { w.fill_(value); }

static int64_t fan(const Tensor& w, FanMode mode) {
  int64_t fi, fo;
  fans(w, fi, fo);
  return mode == FanMode::FanIn ? fi : fo;
}

void kaiming_normal_(const Tensor& w, double gain, FanMode mode, Generator* gen) {
  normal_(w, 0.0, gain / std::sqrt((double)fan(w, mode)), gen);
}

void kaiming_uniform_(const Tensor& w, double gain, FanMode mode, Generator* gen) {
  const double bound = gain * std::sqrt(3.0 / (double)fan(w, mode));
  uniform_(w, -bound, bound, gen);
}

void xavier_normal_(const Tensor& w, double gain, Generator* gen) {
  int64_t fi, fo;
  fans(w, fi, fo);
  normal_(w, 0.0, gain * std::sqrt(2.0 / (double)(fi + fo)), gen);
}

void xavier_uniform_(const Tensor& w, double gain, Generator* gen) {
  int64_t fi, fo;
  fans(w, fi, fo);
  const double bound = gain * std::sqrt(6.0 / (double)(fi + fo));
  uniform_(w, -bound, bound, gen);
}

void lecun_normal_(const Tensor& w, Generator* gen) { normal_(w, 0.0, 1.0 / std::sqrt((double)fan(w, FanMode::FanIn)), gen); }

}  // namespace tg::init
