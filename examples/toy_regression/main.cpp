// The GELU paper's toy experiment: an MLP (64 inputs, one hidden layer of 64) fit by
// MSE with Adam (lr 1e-3) on a fixed batch of 10 samples, once with Gaussian inputs and
// targets and once with uniform [-1, 1] ones, with ReLU, GELU and the sampled GELU
// (stochastic_gelu: x·m, m ~ Bernoulli(Φ(x)), trained with the g·Φ(x) surrogate), over
// several seeds. The printout shows how fast each drives the loss near zero; --csv
// writes every epoch's loss for the activation lab's figure.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/os.h>
#include <optional>

#include "activations/registry.h"
#include "core/parallel.h"
#include "core/random.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "optim/adam.h"

using namespace tg;

int main(int argc, char** argv) {
  CLI::App app{"ReLU, GELU and stochastic GELU on the GELU paper's toy regression"};
  int epochs = 1000, inputs = 64, hidden = 64, batch = 10, every = 100, seeds = 1;
  double lr = 1e-3;
  uint64_t seed = 0;
  std::vector<std::string> activations{"relu", "gelu", "stochastic_gelu"};
  std::string csv_path;
  app.add_option("--epochs", epochs, "training epochs (full-batch Adam steps)")->capture_default_str();
  app.add_option("--inputs", inputs, "input features")->capture_default_str();
  app.add_option("--hidden", hidden, "hidden units")->capture_default_str();
  app.add_option("--batch", batch, "size of the fixed training batch")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--every", every, "print the loss every N epochs")->capture_default_str();
  app.add_option("--seed", seed, "first random seed (data and initialization)")->capture_default_str();
  app.add_option("--seeds", seeds, "seeds seed, seed + 1, …: one run per seed")->capture_default_str();
  app.add_option("--activations", activations, "activations (registry names)")->capture_default_str();
  app.add_option("--csv", csv_path, "write data,activation,seed,epoch,loss for every epoch here");
  CLI11_PARSE(app, argc, argv);

  std::optional<fmt::ostream> csv;
  if (!csv_path.empty()) {
    csv.emplace(fmt::output_file(csv_path));
    csv->print("data,activation,seed,epoch,loss\n");
  }
  fmt::print("toy regression: MLP {}→{}→1, batch {}, Adam lr {}, {} epochs, {} seed(s), {} threads\n", inputs, hidden,
             batch, lr, epochs, seeds, get_num_threads());
  for (uint64_t s = seed; s < seed + static_cast<uint64_t>(seeds); ++s) {
    for (std::string data : {"gaussian", "uniform"}) {
      Generator g(2 * s);
      Tensor x =
          data == "gaussian" ? randn({batch, inputs}, kFloat32, &g) : uniform({batch, inputs}, -1, 1, kFloat32, &g);
      Tensor y = data == "gaussian" ? randn({batch, 1}, kFloat32, &g) : uniform({batch, 1}, -1, 1, kFloat32, &g);
      for (const std::string& act : activations) {
        manual_seed(2 * s + 1);  // the same initial weights (and gate draws) for every activation
        Sequential net{Linear(inputs, hidden), make_activation(act), Linear(hidden, 1)};
        Adam opt(net.parameters(), {.lr = lr});
        fmt::print("seed {} {:>8} {:>15}:", s, data, act);
        for (int e = 1; e <= epochs; ++e) {
          opt.zero_grad();
          Variable loss = mse_loss(net(x), y);
          loss.backward();
          opt.step();
          if (csv) csv->print("{},{},{},{},{}\n", data, act, s, e, loss.item());
          if (e == 1 || e % every == 0) fmt::print(" {}:{:.2e}", e, loss.item());
        }
        fmt::print("\n");
      }
    }
  }
  return 0;
}
