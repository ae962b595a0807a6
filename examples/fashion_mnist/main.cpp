// The main demo: a small CNN trained on Fashion-MNIST on the CPU.
//   conv(1→32, 3×3) BN act maxpool2 → conv(32→64, 3×3) BN act maxpool2 → flatten
//   → linear(3136→128) act → linear(128→10), Adam, cross-entropy.
// Progress bar (loss, samples/s, ETA), test accuracy after each epoch, a JSONL metrics
// file, a checkpoint (safetensors) per epoch, and --resume from one.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <fstream>
#include <optional>
#include <unistd.h>

#include "activations/registry.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/dataloader.h"
#include "data/idx.h"
#include "data/transforms.h"
#include "distributed/ddp.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/pool.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"
#include "optim/evaluate.h"
#include "optim/lr_scheduler.h"
#include "optim/progress.h"

using namespace tg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static Sequential make_model(const std::string& act) {
  auto a = [&](bool spatial, int64_t channels) { return make_activation(act, spatial, channels); };
  return Sequential{Conv2d(1, 32, 3, 1, 1), BatchNorm2d(32), a(true, 32), MaxPool2d(2),
                    Conv2d(32, 64, 3, 1, 1), BatchNorm2d(64), a(true, 64), MaxPool2d(2),
                    Flatten(), Linear(64 * 7 * 7, 128), a(false, 128), Linear(128, 10)};
}

int main(int argc, char** argv) {
  CLI::App app{"Train a small CNN on Fashion-MNIST (tapegrad's main demo)"};
  std::string data_dir = "/usr/share/datasets/fashion-mnist", out_dir = "runs", activation = "relu", resume, run_name;
  int epochs = 3, threads = get_num_threads(), workers = 2;
  int64_t batch_size = 64, limit_train = 0, limit_test = 0;
  double lr = 2e-3, lr_decay = 0.3;
  uint64_t seed = 0;
  bool quiet = false, distributed = false;
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST IDX files (train/t10k, .gz or raw)")->capture_default_str();
  app.add_option("--activation", activation,
                 std::string("activation after each conv and the hidden linear layer: ") + activation_names())->capture_default_str();
  app.add_option("--epochs", epochs, "number of training epochs (total, including resumed ones)")->capture_default_str();
  app.add_option("--batch-size", batch_size, "mini-batch size")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--lr-decay", lr_decay, "learning-rate factor per epoch (StepLR, step 1)")->capture_default_str();
  app.add_option("--seed", seed, "seed for initialization, shuffling and stochastic layers")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads for the math (like torch.set_num_threads)")->capture_default_str();
  app.add_option("--workers", workers, "data-loader worker threads that prefetch batches")->capture_default_str();
  app.add_option("--out", out_dir, "folder for runs: <out>/<run>/metrics.jsonl and epoch checkpoints")->capture_default_str();
  app.add_option("--run", run_name, "run name (default: <activation>-seed<seed>)");
  app.add_option("--resume", resume, "checkpoint (.safetensors) to resume from; training continues at its epoch");
  app.add_option("--limit-train", limit_train, "use only the first N training images (0: all)")->capture_default_str();
  app.add_option("--limit-test", limit_test, "use only the first N test images (0: all)")->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress bar, only per-epoch lines");
  app.add_flag("--distributed", distributed,
               "data-parallel training over the ranks of mpirun (MPI): each trains on its shard; rank 0 prints and saves");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(threads);
    std::shared_ptr<dist::ProcessGroup> pg = distributed ? dist::init_process_group() : nullptr;
    const int rank = pg ? pg->rank() : 0, world = pg ? pg->size() : 1;
    if (rank != 0 && !std::freopen("/dev/null", "w", stdout)) throw Error("fashion_mnist: cannot silence rank " + std::to_string(rank));
    quiet = quiet || rank != 0;
    if (run_name.empty()) run_name = fmt::format("{}-seed{}", activation, seed);
    const fs::path run_dir = fs::path(out_dir) / run_name;
    fs::create_directories(run_dir);

    auto find = [&](const std::string& stem) {
      for (const char* ext : {".gz", ""})
        if (fs::exists(fs::path(data_dir) / (stem + ext))) return (fs::path(data_dir) / (stem + ext)).string();
      throw Error(fmt::format("fashion_mnist: {} not found in {} (install the Debian package dataset-fashion-mnist "
                              "or pass --data)", stem, data_dir));
    };
    auto load = [&](const std::string& split, int64_t limit) -> Shared<const Dataset> {
      MNIST all = MNIST::from_files(find(split + "-images-idx3-ubyte"), find(split + "-labels-idx1-ubyte"));
      if (limit > 0) return SubsetDataset(std::move(all), limit);
      return all;
    };
    const Shared<const Dataset> train = load("train", limit_train), test = load("t10k", limit_test);
    const Shared<const Transform> norm = Normalize({0.2860}, {0.3530});
    DataLoader train_loader(TransformDataset(train, norm),
                            {.batch_size = batch_size, .shuffle = true, .num_workers = workers, .seed = seed,
                             .num_replicas = world, .rank = rank});
    DataLoader test_loader(TransformDataset(test, norm), {.batch_size = 500, .num_workers = workers});

    manual_seed(seed);
    const Shared<Module> model = make_model(activation);
    Adam opt(model->parameters(), {.lr = lr});
    StepLR schedule(opt, 1, lr_decay);
    int64_t start_epoch = 0;
    if (!resume.empty()) {
      Metadata meta = load_checkpoint(resume, *model, opt, {{"activation", activation}});
      TG_CHECK(meta.count("epoch"), "resume", "{}: checkpoint metadata lacks 'epoch'", resume);
      start_epoch = std::stoll(meta["epoch"]);
      fmt::print("resumed from {} at epoch {}\n", resume, start_epoch);
    }
    std::optional<dist::DistributedDataParallel> ddp;  // rank 0's weights everywhere
    if (pg) ddp.emplace(model, pg);
    Module& net = ddp ? static_cast<Module&>(*ddp) : *model;
    const int64_t nparams = model->num_parameters();
    fmt::print("fashion_mnist: {} train / {} test images, activation {}, {} parameters, batch {}, Adam lr {} (×{}/epoch), "
               "{} threads, {} loader workers\n",
               train->size(), test->size(), activation, nparams, batch_size, lr, lr_decay, threads, workers);
    std::fflush(stdout);  // before the progress bar, which goes to stderr

    std::ofstream metrics;
    if (rank == 0) metrics.open(run_dir / "metrics.jsonl", start_epoch > 0 ? std::ios::app : std::ios::trunc);
    const bool tty = !quiet && isatty(fileno(stderr));
    EvalResult last;
    double total_seconds = 0;
    for (int64_t epoch = start_epoch; epoch < epochs; ++epoch) {
      train_loader.set_epoch(epoch);
      schedule.set_epoch(epoch);
      Progress bar(fmt::format("epoch {}/{}", epoch + 1, epochs), train_loader.size(), tty, quiet);
      double loss_sum = 0;
      int64_t seen = 0;
      const auto t0 = Clock::now();
      for (const Batch& b : train_loader) {
        opt.zero_grad();
        Variable loss = cross_entropy(net(b.data), b.target);
        ddp ? ddp->backward(loss) : loss.backward();
        opt.step();
        const int64_t n = b.data.size(0);
        loss_sum += loss.item() * (double)n;
        seen += n;
        bar.step(loss.item(), n);
      }
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      total_seconds += secs;
      bar.finish();
      last = evaluate_classifier(*model, test_loader);
      const double train_loss = loss_sum / (double)seen;
      fmt::print("epoch {}/{}: train loss {:.4f}, test loss {:.4f}, test accuracy {:.2f}%, {:.0f} samples/s, {:.1f}s\n",
                 epoch + 1, epochs, train_loss, last.loss, 100 * last.top1, (double)seen / secs, secs);
      std::fflush(stdout);
      nlohmann::json line = {{"epoch", epoch + 1},        {"train_loss", train_loss},  {"test_loss", last.loss},
                             {"test_accuracy", last.top1}, {"samples_per_second", (double)seen / secs},
                             {"seconds", secs},            {"activation", activation}, {"threads", threads}};
      metrics << line.dump() << std::endl;
      const fs::path ckpt = run_dir / fmt::format("epoch{}.safetensors", epoch + 1);
      if (rank == 0)
        save_checkpoint(ckpt.string(), *model, opt, {{"epoch", std::to_string(epoch + 1)}, {"activation", activation}});
    }
    fmt::print("done: {} epochs, final test accuracy {:.2f}%, {:.1f}s of training; metrics in {}\n", epochs,
               100 * last.top1, total_seconds, (run_dir / "metrics.jsonl").string());
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
