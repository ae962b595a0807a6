// The VecGELU study as a trainer: a plain deep CNN on an ImageNet-layout folder,
//   depth × [Conv2d 3×3 (width channels, padding 1), activation]
//   → global average pooling → Linear(width, classes),
// no normalization, Adam, cross-entropy; one run per activation of --acts, all from
// the same seed (same initial convolutions, same data order and augmentations), so
// the runs differ only by the activation. Every --log-every steps the library's
// TrainingMonitor writes per-layer statistics to <out>/<activation>/train.jsonl;
// each evaluation adds validation loss and top-1/top-5 accuracy there. A checkpoint
// per epoch (<out>/<activation>/epoch<k>.safetensors); --resume continues from the last.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "activations/registry.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/dataloader.h"
#include "data/image_folder.h"
#include "data/transforms.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/monitor.h"
#include "layers/pool.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"
#include "optim/evaluate.h"
#include "optim/progress.h"

using namespace tg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Config {
  std::string data, out = "runs/study";
  std::vector<std::string> acts{"gelu", "vecgelu"};
  std::vector<double> init_scale{1.0};
  int64_t depth = 20, width = 64, size = 224, resize = 0, batch_size = 32, log_every = 100, eval_every = 0;
  int epochs = 1, threads = get_num_threads(), workers = 2;
  double lr = 1e-5, crop_scale_min = 0.08;
  std::vector<double> mean{0.485, 0.456, 0.406}, std{0.229, 0.224, 0.225};
  std::string device = "cpu";
  uint64_t seed = 0;
  bool resume = false, quiet = false;
};

// The study's network. Weights of every conv and the linear layer are multiplied by
// init_scale after torch's default initialization (biases are left alone).
static Sequential make_model(const Config& cfg, const std::string& act, double init_scale, int64_t classes) {
  Sequential model;
  for (int64_t i = 0; i < cfg.depth; ++i) {
    model.add(Conv2d(i == 0 ? 3 : cfg.width, cfg.width, 3, 1, 1));
    model.add(make_activation(act, true, cfg.width));
  }
  model.add(AdaptiveAvgPool2d(1)).add(Flatten()).add(Linear(cfg.width, classes));
  for (auto& [name, p] : model.named_parameters())
    if (name.ends_with(".weight") && p.dim() >= 2) p.data().mul_(init_scale);
  return model;
}

// The highest epoch<k>.safetensors in dir (0 and "" when there is none).
static std::pair<int64_t, std::string> last_checkpoint(const fs::path& dir) {
  std::pair<int64_t, std::string> best{0, ""};
  if (!fs::is_directory(dir)) return best;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.starts_with("epoch") && f.ends_with(".safetensors")) {
      const int64_t k = std::stoll(f.substr(5, f.size() - 5 - 12));
      if (k > best.first) best = {k, e.path().string()};
    }
  }
  return best;
}

// Keeps the lines of a JSONL file whose "step" is at most `step` (what a resumed run
// has already logged up to its checkpoint).
static void truncate_log(const fs::path& path, int64_t step) {
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line))
    if (!line.empty() && nlohmann::json::parse(line).value("step", int64_t(0)) <= step) kept += line + "\n";
  in.close();
  std::ofstream(path, std::ios::trunc) << kept;
}

struct RunResult {
  std::string act;
  EvalResult val;
  double seconds = 0, images_per_second = 0;
};

static RunResult train_one(const Config& cfg, const std::string& act, double init_scale, Device device) {
  const Shared<const Transform> norm = Normalize(cfg.mean, cfg.std);
  const int64_t resize = cfg.resize > 0 ? cfg.resize : cfg.size * 256 / 224;
  const Shared<const ImageFolder> train_set = ImageFolder((fs::path(cfg.data) / "train").string());
  const Shared<const ImageFolder> val_set = ImageFolder((fs::path(cfg.data) / "val").string());
  TG_CHECK(train_set->classes() == val_set->classes(), "vecgelu_study", "{}: train and val have different classes",
           cfg.data);
  const Shared<const Transform> train_tf =
      Compose({RandomResizedCrop(cfg.size, cfg.size, std::pair{cfg.crop_scale_min, 1.0}), RandomHorizontalFlip(), norm});
  const Shared<const Transform> val_tf = Compose({Resize(resize), CenterCrop(cfg.size, cfg.size), norm});
  DataLoader train_loader(TransformDataset(train_set, train_tf),
                          {.batch_size = cfg.batch_size, .shuffle = true, .num_workers = cfg.workers, .seed = cfg.seed});
  DataLoader val_loader(TransformDataset(val_set, val_tf),
                        {.batch_size = 2 * cfg.batch_size, .num_workers = cfg.workers});

  manual_seed(cfg.seed);
  const auto classes = (int64_t)train_set->classes().size();
  auto model = make_model(cfg, act, init_scale, classes);
  model.to(device);
  Adam opt(model.parameters(), {.lr = cfg.lr});
  const fs::path run_dir = fs::path(cfg.out) / act;
  fs::create_directories(run_dir);
  const Metadata identity = {{"activation", act},
                             {"depth", std::to_string(cfg.depth)},
                             {"width", std::to_string(cfg.width)},
                             {"seed", std::to_string(cfg.seed)}};
  int64_t start_epoch = 0;
  const auto [last_epoch, last_path] = last_checkpoint(run_dir);
  if (cfg.resume && last_epoch > 0) {
    Metadata meta = load_checkpoint(last_path, model, opt, identity);
    TG_CHECK(meta.count("step"), "vecgelu_study", "{}: checkpoint metadata lacks 'step'", last_path);
    start_epoch = last_epoch;
    truncate_log(run_dir / "train.jsonl", std::stoll(meta.at("step")));
    fmt::print("{}: resumed from {}\n", act, last_path);
  }
  std::ofstream log(run_dir / "train.jsonl", start_epoch > 0 ? std::ios::app : std::ios::trunc);
  TrainingMonitor monitor(model, log, cfg.log_every);
  const int64_t nparams = model.num_parameters();
  fmt::print("{}: {} train / {} val images, {} classes, depth {} width {}, {} parameters, init scale {}, {}x{}, "
             "batch {}, Adam lr {}, {} threads, {} loader workers, {}\n",
             act, train_set->size(), val_set->size(), classes, cfg.depth, cfg.width, nparams, init_scale, cfg.size,
             cfg.size, cfg.batch_size, cfg.lr, cfg.threads, cfg.workers, device.str());
  std::fflush(stdout);

  const int64_t steps_per_epoch = train_loader.size();
  auto evaluate = [&](int64_t step) {
    const EvalResult r = evaluate_classifier(model, val_loader, device);
    monitor.log_eval(step, r.loss, r.top1, r.top5);
    return r;
  };
  RunResult result{act, {}, 0, 0};
  if (start_epoch == 0) result.val = evaluate(0);
  const bool tty = !cfg.quiet && isatty(fileno(stderr));
  int64_t images = 0;
  for (int64_t epoch = start_epoch; epoch < cfg.epochs; ++epoch) {
    train_loader.set_epoch(epoch);
    Progress bar(fmt::format("{} epoch {}/{}", act, epoch + 1, cfg.epochs), steps_per_epoch, tty, cfg.quiet);
    int64_t step = epoch * steps_per_epoch;
    double loss_since_log = 0;
    int64_t steps_since_log = 0;
    const auto t0 = Clock::now();
    for (const Batch& b : train_loader) {
      monitor.begin_step(step);
      opt.zero_grad();
      Variable loss = cross_entropy(model(b.data.to(device)), b.target.to(device));
      loss.backward();
      const double l = loss.item();
      loss_since_log += l;
      ++steps_since_log;
      // the train loss of a logged step: the mean over the steps since the last log
      monitor.end_step(step, loss_since_log / (double)steps_since_log);
      if (monitor.logs(step)) {
        loss_since_log = 0;
        steps_since_log = 0;
      }
      opt.step();
      bar.step(l, b.data.size(0));
      images += b.data.size(0);
      ++step;
      if (cfg.eval_every > 0 && step % cfg.eval_every == 0 && step % steps_per_epoch != 0) evaluate(step);
    }
    result.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    bar.finish();
    result.val = evaluate(step);
    fmt::print("{} epoch {}/{}: step {}, val loss {:.4f}, top-1 {:.2f}%, top-5 {:.2f}%\n", act, epoch + 1, cfg.epochs,
               step, result.val.loss, 100 * result.val.top1, 100 * result.val.top5);
    std::fflush(stdout);
    Metadata meta = identity;
    meta["epoch"] = std::to_string(epoch + 1);
    meta["step"] = std::to_string(step);
    save_checkpoint((run_dir / fmt::format("epoch{}.safetensors", epoch + 1)).string(), model, opt, meta);
  }
  if (start_epoch >= cfg.epochs) result.val = evaluate_classifier(model, val_loader, device);  // nothing trained
  result.images_per_second = result.seconds > 0 ? (double)images / result.seconds : 0;
  return result;
}

int main(int argc, char** argv) {
  CLI::App app{"Train the VecGELU study's plain deep CNN on an ImageNet-layout folder, one run per activation"};
  Config cfg;
  // A repeated option keeps its last value, so scripts can append overrides (scripts/study "$@").
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--data", cfg.data, "dataset root with train/<class>/*.{jpg,jpeg,png} and val/<class>/…")->required();
  app.add_option("--out", cfg.out, "output folder: <out>/<activation>/train.jsonl and epoch checkpoints")
      ->capture_default_str();
  app.add_option("--acts", cfg.acts, std::string("activations, comma-separated, one run each: ") + activation_names())
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--depth", cfg.depth, "number of conv + activation blocks")->capture_default_str();
  app.add_option("--width", cfg.width, "channels of every conv")->capture_default_str();
  app.add_option("--init-scale", cfg.init_scale,
                 "factor on conv/linear weights after the default init: one value, or one per activation "
                 "(the study used 2 for VecGELU: --init-scale 1,2)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--epochs", cfg.epochs, "training epochs (total, including resumed ones)")->capture_default_str();
  app.add_option("--size", cfg.size, "training and validation crop size (pixels)")->capture_default_str();
  app.add_option("--resize", cfg.resize, "validation: shorter side before the center crop (0: size·256/224)")
      ->capture_default_str();
  app.add_option("--crop-scale-min", cfg.crop_scale_min, "RandomResizedCrop's smallest area fraction")
      ->capture_default_str();
  app.add_option("--mean", cfg.mean, "per-channel mean for Normalize (comma-separated)")->delimiter(',')
      ->capture_default_str();
  app.add_option("--std", cfg.std, "per-channel std for Normalize (comma-separated)")->delimiter(',')
      ->capture_default_str();
  app.add_option("--batch-size", cfg.batch_size, "mini-batch size")->capture_default_str();
  app.add_option("--lr", cfg.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--seed", cfg.seed, "seed for initialization, data order and augmentations")->capture_default_str();
  app.add_option("--device", cfg.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--threads", cfg.threads, "CPU threads for the math")->capture_default_str();
  app.add_option("--workers", cfg.workers, "data-loader worker threads (decoding and transforms)")
      ->capture_default_str();
  app.add_option("--log-every", cfg.log_every, "monitor every N steps (per-layer statistics)")->capture_default_str();
  app.add_option("--eval-every", cfg.eval_every, "also evaluate every N steps (0: only after each epoch)")
      ->capture_default_str();
  app.add_flag("--resume", cfg.resume, "continue each run from its last epoch checkpoint in <out>/<activation>");
  app.add_flag("--quiet", cfg.quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  try {
    TG_CHECK(cfg.init_scale.size() == 1 || cfg.init_scale.size() == cfg.acts.size(), "vecgelu_study",
             "--init-scale takes one value or one per activation ({} activations, {} values)", cfg.acts.size(),
             cfg.init_scale.size());
    TG_CHECK(cfg.depth >= 1 && cfg.width >= 1 && cfg.size >= 1 && cfg.epochs >= 0 && cfg.log_every >= 1,
             "vecgelu_study", "--depth, --width, --size and --log-every must be positive, --epochs non-negative");
    for (const std::string& a : cfg.acts) activation_info(a);
    set_num_threads(cfg.threads);
    const Device device = cfg.device == "cuda" ? Device::cuda() : Device::cpu();
    std::vector<RunResult> results;
    for (size_t i = 0; i < cfg.acts.size(); ++i)
      results.push_back(train_one(cfg, cfg.acts[i], cfg.init_scale[cfg.init_scale.size() == 1 ? 0 : i], device));
    for (const RunResult& r : results)
      fmt::print("{:>12}: val loss {:.4f}, top-1 {:.2f}%, top-5 {:.2f}%, {:.1f}s of training, {:.0f} images/s\n", r.act,
                 r.val.loss, 100 * r.val.top1, 100 * r.val.top5, r.seconds, r.images_per_second);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
