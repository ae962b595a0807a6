#pragma once
// The evaluation pass of a classifier: mean cross-entropy and top-1/top-5 accuracy
// over every batch of a loader, in eval mode and without recording a graph.
#include "core/device.h"
#include "data/dataloader.h"
#include "layers/module.h"

namespace tg {

struct EvalResult {
  double loss = 0;  // mean cross-entropy per example
  double top1 = 0;  // fraction of examples whose class has the highest logit
  double top5 = 0;  // fraction whose class is among the five highest logits
  int64_t examples = 0;
};

// Batches are moved to `device` (the model's). Ties rank as argmax does: the lower
// class index first. Restores training mode afterwards. Errors: an empty loader.
EvalResult evaluate_classifier(Module& model, DataLoader& loader, Device device = Device::cpu());

}  // namespace tg
