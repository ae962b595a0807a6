// The training monitor's cost: Adam steps of the study's network (depth × [conv 3×3,
// activation] → global average pool → linear) on random input, interleaving steps
// without a monitor, steps with a monitor that does not log them, and logged steps.
// Prints the median of each and the overhead of one log per --log-every steps:
//   (logged − plain) / (log_every · plain).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <sstream>

#include "activations/registry.h"
#include "core/parallel.h"
#include "core/random.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/monitor.h"
#include "layers/pool.h"
#include "optim/adam.h"

using namespace tg;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char** argv) {
  CLI::App app{"Overhead of TrainingMonitor on the VecGELU study's network"};
  std::string act = "vecgelu";
  int64_t depth = 20, width = 32, size = 16, batch = 32, log_every = 100;
  int rounds = 10, threads = get_num_threads();
  app.add_option("--act", act, "activation")->capture_default_str();
  app.add_option("--depth", depth)->capture_default_str();
  app.add_option("--width", width)->capture_default_str();
  app.add_option("--size", size)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--log-every", log_every)->capture_default_str();
  app.add_option("--rounds", rounds, "rounds of (plain, monitored, logged) steps")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);
  manual_seed(0);
  Sequential model;
  for (int64_t i = 0; i < depth; ++i) {
    model.add(std::make_shared<Conv2d>(i == 0 ? 3 : width, width, 3, 1, 1));
    model.add(make_activation(act, true, width));
  }
  model.add(std::make_shared<AdaptiveAvgPool2d>(1));
  model.add(std::make_shared<Flatten>());
  model.add(std::make_shared<Linear>(width, 10));
  Adam opt(model.parameters(), {.lr = 1e-4});
  const Tensor x = randn({batch, 3, size, size});
  std::vector<int64_t> labels((size_t)batch);
  for (int64_t i = 0; i < batch; ++i) labels[i] = i % 10;
  const Tensor y = from_vector(labels, {batch});
  std::ostringstream sink;
  TrainingMonitor monitor(model, sink, log_every);
  // kind 0: no monitor; 1: monitor, step not logged; 2: logged step
  auto step = [&](int kind, int64_t s) {
    const auto t0 = std::chrono::steady_clock::now();
    if (kind > 0) monitor.begin_step(s);
    opt.zero_grad();
    Variable loss = cross_entropy(model(Variable(x)), y);
    loss.backward();
    if (kind > 0) monitor.end_step(s, loss.item());
    opt.step();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  step(0, 1);
  std::vector<double> t[3];
  for (int r = 0; r < rounds; ++r)
    for (int kind = 0; kind < 3; ++kind) t[kind].push_back(step(kind, kind == 2 ? 0 : 1));
  const double plain = median(t[0]), off = median(t[1]), logged = median(t[2]);
  fmt::print("{} depth {} width {} {}x{} batch {}, {} threads, medians of {}: plain step {:.4f} s, "
             "monitor on an unlogged step {:.4f} s, logged step {:.4f} s\n",
             act, depth, width, size, size, batch, threads, rounds, plain, off, logged);
  fmt::print("summary: monitor overhead at one log per {} steps: {:.2f}% of the step time ({:.4f} s per log)\n",
             log_every, 100 * (logged - plain) / ((double)log_every * plain), logged - plain);
  return 0;
}
