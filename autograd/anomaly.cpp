#include "autograd/anomaly.h"

#include <cmath>

namespace tg {

using namespace ops;

namespace {
thread_local bool g_anomaly = false;
}  // namespace

bool AnomalyMode::enabled() { return g_anomaly; }
void AnomalyMode::set_enabled(bool on) { g_anomaly = on; }

void check_backward_output(const Node& n, size_t input, const Tensor& grad) {
  if (!is_floating(grad.dtype())) return;
  // x·0 is 0 for every finite x and NaN for NaN and ±Inf, so one reduction on the
  // gradient's own device finds any non-finite entry without copying the gradient.
  if (!std::isnan(sum(mul(grad, 0.0)).item())) return;
  int64_t nans = 0, infs = 0;
  for (double v : grad.to_vector<double>()) {
    nans += std::isnan(v);
    infs += std::isinf(v);
  }
  std::string inputs;
  for (const Shape& s : n.input_shapes) inputs += (inputs.empty() ? "" : ", ") + shape_str(s);
  const std::string context = inputs.empty()
                                  ? "it was recorded without DetectAnomaly, so its input shapes are unknown"
                                  : "its forward inputs had shapes " + inputs;
  throw Error(fmt::format(
      "{}: backward returned {} NaN and {} Inf in the gradient for input {} of shape {} (found by DetectAnomaly; the op "
      "is #{} on the tape, {})",
      n.name, nans, infs, input, shape_str(grad.shape()), n.seq, context));
}

}  // namespace tg
