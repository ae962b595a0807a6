#pragma once
// Training checkpoints: a model, its optimizer and the default generator's state in
// one safetensors file, so a run resumes bit-identically (same thread count).
//   model tensors      "model.<state_dict name>"   (e.g. model.0.weight)
//   optimizer tensors  "optim.<state_dict name>"   (e.g. optim.step, optim.state.0.exp_avg)
//   metadata           the caller's keys plus "rng_seed" and "rng_offset"
#include <string>

#include "data/safetensors.h"
#include "layers/module.h"
#include "optim/optimizer.h"

namespace tg {

// Writes the checkpoint atomically (see save_safetensors). `metadata` must not use the
// keys "rng_seed" or "rng_offset" (error).
void save_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                     const Metadata& metadata = {});

// Loads the model's and optimizer's state in place, restores the default generator and
// returns the metadata (rng keys included). Before anything is changed it checks that
// every tensor is model.* or optim.*, that the rng keys are present and that each key
// of `expect` is present with that value. Errors name the file and the cause; a state
// that does not fit the model is load_state_dict's error.
Metadata load_checkpoint(const std::string& path, Module& model, Optimizer& optimizer, const Metadata& expect = {});

}  // namespace tg
