// The checkpoint loader as the demo's resume runs it: load_safetensors, the tensors
// split into "model.*" and "optim.*", then Module::load_state_dict and
// Optimizer::load_state_dict into a small CNN and its Adam (names, shapes, dtypes).
#include "data/safetensors.h"
#include "optim/adam.h"
#include "tests/fuzz/checkpoint_model.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<tg::Module> model = tg::fuzz::checkpoint_model();
  static tg::Adam opt(model->parameters());
  const auto path = tg::fuzz::scratch_dir() / "checkpoint.safetensors";
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::expect_tg_error_or_success([&] {
    tg::Metadata meta;
    tg::NamedTensors m, o;
    for (auto& [name, t] : tg::load_safetensors(path.string(), &meta)) {
      if (name.rfind("model.", 0) == 0) m.emplace_back(name.substr(6), t);
      else if (name.rfind("optim.", 0) == 0) o.emplace_back(name.substr(6), t);
    }
    model->load_state_dict(m);
    opt.load_state_dict(o);
  });
  return 0;
}
