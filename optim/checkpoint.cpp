#include "optim/checkpoint.h"

#include "core/random.h"

namespace tg {

void save_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                     const Metadata& metadata) {
  for (const char* key : {"rng_seed", "rng_offset"})
    TG_CHECK(!metadata.count(key), "save_checkpoint", "{}: metadata key '{}' is reserved for the generator state", path,
             key);
  NamedTensors all;
  for (auto& [n, t] : model.state_dict()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : optimizer.state_dict()) all.emplace_back("optim." + n, t);
  Metadata meta = metadata;
  const Generator& g = default_generator();
  meta["rng_seed"] = std::to_string(g.seed());
  meta["rng_offset"] = std::to_string(g.offset());
  save_safetensors(path, all, meta);
}

Metadata load_checkpoint(const std::string& path, Module& model, Optimizer& optimizer, const Metadata& expect) {
  Metadata meta;
  NamedTensors all = load_safetensors(path, &meta);
  NamedTensors m, o;
  for (auto& [n, t] : all) {
    if (n.starts_with("model.")) m.emplace_back(n.substr(6), t);
    else if (n.starts_with("optim.")) o.emplace_back(n.substr(6), t);
    else throw Error(fmt::format("load_checkpoint: {}: unexpected tensor '{}' (neither model.* nor optim.*)", path, n));
  }
  for (const char* key : {"rng_seed", "rng_offset"})
    TG_CHECK(meta.count(key), "load_checkpoint", "{}: checkpoint metadata lacks '{}'", path, key);
  for (auto& [key, value] : expect) {
    auto it = meta.find(key);
    TG_CHECK(it != meta.end(), "load_checkpoint", "{}: checkpoint metadata lacks '{}'", path, key);
    TG_CHECK(it->second == value, "load_checkpoint", "{}: checkpoint has {} = {}, this run has {}", path, key,
             it->second, value);
  }
  model.load_state_dict(m);
  optimizer.load_state_dict(o);
  default_generator().set_state(std::stoull(meta["rng_seed"]), std::stoull(meta["rng_offset"]));
  return meta;
}

}  // namespace tg
