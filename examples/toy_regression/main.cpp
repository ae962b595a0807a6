// The GELU paper's toy experiment: an MLP (64 inputs, one hidden layer of 64) fit by
// MSE with Adam (lr 1e-3) on a fixed batch of 10 samples, once with Gaussian inputs and
// targets and once with uniform [-1, 1] ones, with ReLU and with GELU. Both drive the
// loss near zero; the printout shows how fast.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "activations/registry.h"
#include "core/parallel.h"
#include "core/random.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "optim/adam.h"

using namespace tg;

int main(int argc, char** argv) {
  CLI::App app{"GELU vs ReLU on the GELU paper's toy regression"};
  int epochs = 1000, inputs = 64, hidden = 64, batch = 10, every = 100;
  double lr = 1e-3;
  uint64_t seed = 0;
  app.add_option("--epochs", epochs, "training epochs (full-batch Adam steps)")->capture_default_str();
  app.add_option("--inputs", inputs, "input features")->capture_default_str();
  app.add_option("--hidden", hidden, "hidden units")->capture_default_str();
  app.add_option("--batch", batch, "size of the fixed training batch")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--every", every, "print the loss every N epochs")->capture_default_str();
  app.add_option("--seed", seed, "random seed (data and initialization)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fmt::print("toy regression: MLP {}→{}→1, batch {}, Adam lr {}, {} epochs, {} threads\n", inputs, hidden, batch, lr,
             epochs, get_num_threads());
  for (std::string data : {"gaussian", "uniform"}) {
    Generator g(seed);
    Tensor x = data == "gaussian" ? randn({batch, inputs}, kFloat32, &g) : uniform({batch, inputs}, -1, 1, kFloat32, &g);
    Tensor y = data == "gaussian" ? randn({batch, 1}, kFloat32, &g) : uniform({batch, 1}, -1, 1, kFloat32, &g);
    for (std::string act : {"relu", "gelu"}) {
      manual_seed(seed + 1);  // the same initial weights for both activations
      Sequential net{Linear(inputs, hidden), make_activation(act), Linear(hidden, 1)};
      Adam opt(net.parameters(), {.lr = lr});
      fmt::print("{:>8} {:>4}:", data, act);
      for (int e = 1; e <= epochs; ++e) {
        opt.zero_grad();
        Variable loss = mse_loss(net(x), y);
        loss.backward();
        opt.step();
        if (e == 1 || e % every == 0) fmt::print(" {}:{:.2e}", e, loss.item());
      }
      fmt::print("\n");
    }
  }
  return 0;
}
