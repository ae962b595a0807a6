#pragma once
// TrainingMonitor: per-layer statistics of a training run, one JSON line per logged
// step, for any model. It walks the module tree once (depth order = the order of the
// tree, children in registration order) and watches
//   weight layers  every Conv2d and Linear: after the backward, mean |∂L/∂W|, ‖W‖₂
//                  and the fraction of weights that are exactly 0;
//   activations    every module of the activation registry: from a forward hook, the
//                  output's mean, variance and mean |y|, the fraction of outputs that
//                  are exactly 0, the fraction of dead channels (dim 1; a channel is
//                  dead when all its outputs in the batch are 0), and for a vector
//                  activation (VectorActivation) the mean vector norm r = ‖v‖ of its
//                  input and the mean gate s = ‖y‖/‖v‖ (vectors with v = 0 left out).
//
//   TrainingMonitor monitor(model, jsonl, 100);
//   for (step ...) { monitor.begin_step(step); loss = ...forward...; loss.backward();
//                    monitor.end_step(step, loss.item()); optimizer.step(); }
//
// A logged step (step % log_every == 0) writes
//   {"step", "train_loss", "grad_abs_mean", "weight_norm", "weight_zero_frac",
//    "act_mean", "act_var", "act_abs_mean", "act_zero_frac", "act_dead_frac",
//    "vec_norm_mean", "vec_scale_mean"}
// with one array entry per layer in depth order (weight layers for the first three,
// activations for the rest; the vec_ arrays only when the model has a vector
// activation, null for its elementwise ones; null where a value is undefined, e.g. a
// weight without gradient). log_eval writes {"step", "val_loss", "val_acc", "val_acc5"}.
// Hooks are installed by begin_step of a logged step and removed by end_step, so the
// other steps run the model untouched. Statistics are computed on the CPU (copies
// when the model is on a GPU) in double precision.
#include <cstdint>
#include <optional>
#include <ostream>
#include <vector>

#include "activations/grouping.h"
#include "layers/module.h"

namespace tg {

class TrainingMonitor {
 public:
  // The model must outlive the monitor; out receives the lines (flushed per line).
  // Errors: log_every < 1, a model with neither weight layers nor activations.
  TrainingMonitor(Module& model, std::ostream& out, int64_t log_every);
  ~TrainingMonitor();
  TrainingMonitor(const TrainingMonitor&) = delete;
  TrainingMonitor& operator=(const TrainingMonitor&) = delete;

  bool logs(int64_t step) const { return step % log_every_ == 0; }
  // Before the forward of `step`: installs the forward hooks when the step is logged.
  void begin_step(int64_t step);
  // After the backward of `step` and before the optimizer's step: writes the step's
  // line (when logged) and removes the hooks.
  void end_step(int64_t step, double train_loss);
  void log_eval(int64_t step, double val_loss, double val_acc, double val_acc5);

  size_t weight_layers() const { return weights_.size(); }
  size_t activation_layers() const { return acts_.size(); }

 private:
  // The statistics of one activation call (nan where undefined).
  struct ActStats {
    double mean = 0, var = 0, abs_mean = 0, zero_frac = 0, dead_frac = 0;
    std::optional<double> vec_norm_mean, vec_scale_mean;  // vector activations
  };
  static ActStats activation_stats(const Tensor& input, const Tensor& output, const VectorActivation* vector);
  struct Watched {
    Module* module;
    const VectorActivation* vector = nullptr;
    Variable* weight = nullptr;
  };
  std::ostream& out_;
  int64_t log_every_;
  std::vector<Watched> weights_, acts_;
  std::vector<std::optional<ActStats>> stats_;  // per activation, this step
  std::vector<HookHandle> handles_;
  bool any_vector_ = false;
};

}  // namespace tg
