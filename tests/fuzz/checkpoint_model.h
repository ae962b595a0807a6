#pragma once
// The small CNN whose checkpoints fuzz_checkpoint loads (and make_seeds writes).
#include <memory>

#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace tg::fuzz {

inline std::shared_ptr<Module> checkpoint_model() {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 2, 3), std::make_shared<BatchNorm2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(8, 3)});
}

}  // namespace tg::fuzz
