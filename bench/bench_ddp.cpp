// Data-parallel costs, run under mpirun (e.g. mpirun -np 2 build/bench/bench_ddp):
//   latency   one all_reduce of a single float, round trip through the communication thread;
//   backward  the demo CNN (Fashion-MNIST, batch 64 per rank, 1 thread) forward + backward
//             (a) alone, (b) with DistributedDataParallel's bucketed averages launched
//             from the gradient hooks and finished after backward, (c) followed by one
//             blocking all_reduce of all gradients (no overlap), and (d) that all_reduce alone.
// Overlap hides communication when (b) − (a) < (c) − (a). Median and best of --iters runs; rank 0 prints.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <vector>

#include "activations/basic.h"
#include "core/parallel.h"
#include "core/random.h"
#include "distributed/ddp.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/pool.h"

using namespace tg;
using Clock = std::chrono::steady_clock;

static std::shared_ptr<Module> demo_cnn() {
  return Shared<Module>(Sequential{Conv2d(1, 32, 3, 1, 1), BatchNorm2d(32), ReLU(), MaxPool2d(2),
                                   Conv2d(32, 64, 3, 1, 1), BatchNorm2d(64), ReLU(), MaxPool2d(2), Flatten(),
                                   Linear(64 * 7 * 7, 128), ReLU(), Linear(128, 10)})
      .ptr();
}

// {median, best} of iters timed runs of each variant after one warm-up, the ranks
// aligned by a barrier before each run.
struct Times {
  double median, best;
};

static std::vector<Times> timed(dist::ProcessGroup& pg, int iters, const std::vector<std::function<void()>>& fs) {
  std::vector<std::vector<double>> t(fs.size());
  for (auto& f : fs) f();
  for (int i = 0; i < iters; ++i) {
    for (size_t k = 0; k < fs.size(); ++k) {
      pg.barrier();
      const auto t0 = Clock::now();
      fs[k]();
      t[k].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  std::vector<Times> out;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    out.push_back({v[v.size() / 2], v[0]});
  }
  return out;
}

int main(int argc, char** argv) {
  CLI::App app{"DistributedDataParallel: collective latency and backward with/without bucketed all-reduce"};
  int threads = 1, iters = 20;
  int64_t batch = 64;
  double bucket_mb = 25;
  app.add_option("--threads", threads, "CPU threads per rank")->capture_default_str();
  app.add_option("--iters", iters, "timed repetitions (median)")->capture_default_str();
  app.add_option("--batch", batch, "batch per rank")->capture_default_str();
  app.add_option("--bucket-mb", bucket_mb, "DDP bucket cap in MiB")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    set_num_threads(threads);
    auto pg = dist::init_process_group();
    auto say = [&](const std::string& s) {
      if (pg->rank() == 0) fmt::print("{}\n", s);
    };
    Tensor one = ones({1});
    const Times lat = timed(*pg, iters * 10, {[&] { dist::all_reduce(*pg, one); }})[0];
    say(fmt::format("ranks {}, threads/rank {}, batch/rank {}", pg->size(), threads, batch));
    say(fmt::format("latency: all_reduce of 1 float, median {:.1f} us, best {:.1f} us", lat.median * 1e6, lat.best * 1e6));

    manual_seed(0);
    auto model = demo_cnn();
    Tensor x = randn({batch, 1, 28, 28});
    std::vector<int64_t> labels(batch);
    for (int64_t i = 0; i < batch; ++i) labels[i] = i % 10;
    Tensor y = from_vector(labels, {batch});
    auto params = model->parameters();
    int64_t n = 0;
    for (auto& p : params) n += p.numel();
    auto step = [&](Module& m) {
      for (auto& p : params) p.zero_grad();
      return cross_entropy(m(Variable(x)), y);
    };
    auto ddp = std::make_shared<dist::DistributedDataParallel>(model, pg, dist::DDPOptions{.bucket_cap_mb = bucket_mb});
    Tensor flat = zeros({n});
    auto reduce_all = [&] {
      int64_t off = 0;
      for (auto& p : params) {
        flat.narrow(0, off, p.numel()).copy_(p.grad().flatten());
        off += p.numel();
      }
      dist::all_reduce(*pg, flat, dist::ReduceOp::Average);
    };
    // The variants take turns within each repetition, so that the load of a shared
    // machine drifts over all of them alike.
    const std::vector<std::function<void()>> variants = {
        [&] { step(*model).backward(); },
        [&] { ddp->backward(step(*ddp)); },
        [&] {
          step(*model).backward();
          reduce_all();
        },
        [&] { dist::all_reduce(*pg, flat, dist::ReduceOp::Average); }};
    const std::vector<Times> t = timed(*pg, iters, variants);
    const Times alone = t[0];
    say(fmt::format("parameters {} ({:.2f} MB float32), buckets {}", n, n * 4 / 1e6, ddp->bucket_layout().size()));
    auto row = [&](const char* what, Times t) {
      say(fmt::format("{:<40} median {:8.2f} ms (+{:7.2f})   best {:8.2f} ms (+{:7.2f})", what, t.median * 1e3,
                      (t.median - alone.median) * 1e3, t.best * 1e3, (t.best - alone.best) * 1e3));
    };
    row("(a) forward+backward alone", t[0]);
    row("(b) with DDP bucketed all-reduce", t[1]);
    row("(c) then one blocking all_reduce", t[2]);
    say(fmt::format("{:<40} median {:8.2f} ms             best {:8.2f} ms", "(d) that all_reduce alone",
                    t[3].median * 1e3, t[3].best * 1e3));
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
