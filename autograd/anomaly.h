#pragma once
// Anomaly detection, like torch.autograd.detect_anomaly: while a DetectAnomaly guard
// is alive on a thread, every op recorded there keeps its inputs' shapes, and every
// backward run there checks each gradient an op's backward returns for NaN and Inf.
// The first non-finite gradient stops the pass with a tg::Error that names the op
// and its forward context (op name, sequence number on the tape, input shapes):
//   "log: backward returned 1 NaN and 0 Inf in the gradient for input 0 of shape [2, 3]
//    (found by DetectAnomaly; the op is #12 on the tape, its forward inputs had shapes [2, 3])"
// Off (the default) it costs one thread-local flag test per recorded op and per
// backward step. The mode is per thread, as GradMode is.
#include "autograd/variable.h"

namespace tg {

struct AnomalyMode {
  static bool enabled();
  static void set_enabled(bool on);
};

class DetectAnomaly {
 public:
  explicit DetectAnomaly(bool on = true) : prev_(AnomalyMode::enabled()) { AnomalyMode::set_enabled(on); }
  ~DetectAnomaly() { AnomalyMode::set_enabled(prev_); }
  DetectAnomaly(const DetectAnomaly&) = delete;
  DetectAnomaly& operator=(const DetectAnomaly&) = delete;

 private:
  bool prev_;
};

// Throws the error above when `grad`, the gradient node `n`'s backward returned for
// its input `input`, holds a NaN or an Inf. Called by the backward pass in anomaly mode.
void check_backward_output(const Node& n, size_t input, const Tensor& grad);

}  // namespace tg
