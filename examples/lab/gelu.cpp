// GELU's formation: ReLU multiplies x by a deterministic 0/1, dropout by a random one;
// GELU takes the expectation of a random gate that keeps larger inputs more often,
// m ~ Bernoulli(Φ(x)): E[x·m] = x·Φ(x). Here stochastic_gelu draws `samples` masks at
// each of 81 points on [−4, 4]; the mean output should match x·Φ(x) within its
// standard error, and its backward (g·Φ(x), the expected gate) is compared with the
// true derivative of the mean, Φ(x) + x·φ(x).
#include <fmt/os.h>

#include "activations/basic.h"
#include "activations/stochastic_gelu.h"
#include "examples/lab/lab.h"

namespace tg::lab {

void run_gelu(const GeluOptions& o) {
  const int64_t points = 81;
  std::vector<double> grid(points);
  for (int64_t i = 0; i < points; ++i) grid[i] = static_cast<double>(i - points / 2) / 10;
  const Tensor xs = from_vector(grid, {points, 1});

  Generator gen(o.seed);
  Variable x(xs.expand({points, o.samples}).contiguous(), true);
  Variable y = stochastic_gelu(x, /*training=*/true, &gen);
  sum(y).backward();
  const std::vector<double> mc = ops::mean(y.data(), {1}).to_vector<double>();
  const std::vector<double> sd = ops::sqrt(ops::var(y.data(), {1})).to_vector<double>();
  const std::vector<double> surrogate = ops::mean(x.grad(), {1}).to_vector<double>();

  Variable xe(xs, true);
  Variable ye = gelu(xe);
  sum(ye).backward();
  const std::vector<double> exact = ye.data().to_vector<double>(), exact_grad = xe.grad().to_vector<double>();

  auto f = fmt::output_file(o.out + "/gelu_mc.csv");
  f.print("x,mc_mean,mc_stderr,gelu,surrogate_grad,exact_grad\n");
  double worst = 0;
  for (int64_t i = 0; i < points; ++i) {
    // All draws alike (far tails, or x = 0) leave only rounding in the sample deviation.
    const double se = sd[i] > 1e-9 * std::abs(grid[i]) ? sd[i] / std::sqrt(static_cast<double>(o.samples)) : 0.0;
    f.print("{},{},{},{},{},{}\n", grid[i], mc[i], se, exact[i], surrogate[i], exact_grad[i]);
    if (se > 0) worst = std::max(worst, std::abs(mc[i] - exact[i]) / se);
  }
  fmt::print("gelu: {} draws at each of {} points; largest |mean − x·Φ(x)| = {:.2f} standard errors\n", o.samples,
             points, worst);
}

}  // namespace tg::lab
