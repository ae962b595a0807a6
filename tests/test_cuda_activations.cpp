// The elementwise activations on a CUDA device, with the CPU as the oracle: forward and
// backward of every activation and module in float32 and float64, with NaN, ±Inf and
// ±0 inputs and strided operands, PReLU's slope gradient, and StochasticGELU's mask,
// which must be the CPU's (the same Philox bits). Each case returns early without a GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "activations/special.h"
#include "core/ops.h"
#include "core/philox.h"
#include "tests/cuda_parity.h"
#include "tests/test_activations_common.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;
using namespace tg::test_act;

namespace {

// CUDA's expf, erfcf, tanh, ... are within a few ulp of glibc's; 16 eps also covers
// two of them chained (the backward from a forward's output).
constexpr double kUlps = 16;

using Fn = std::function<Variable(const Variable&)>;

// y = f(x) and ∂L/∂x for the upstream gradient g, on the operands' device.
std::pair<Tensor, Tensor> forward_backward(const Fn& f, const Tensor& x, const Tensor& g) {
  Variable v(x, true);
  Variable y = f(v);
  y.backward(g);
  return {y.data(), v.grad()};
}

// NaN, ±Inf and ±0 in the first elements, randn·6 elsewhere, and two rows of integers
// on [−18, 18] and [−27, 27]: every piece of the piecewise activations, their kinks
// (where both devices must pick the same side) and softplus's thresholds.
Tensor inputs(DType dt, uint64_t seed) {
  Tensor x = mul(data({24, 37}, dt, seed, true), 6.0);
  x.select(0, 1).copy_(arange(-18, 19, 1, dt));
  x.select(0, 2).copy_(mul(arange(-18, 19, 1, dt), 1.5));
  return x;
}

// Forward and backward on the device against the CPU, contiguous and transposed.
// `scale` widens the absolute tolerance for ill-conditioned formulas (see below).
void check_activation(const Fn& f, DType dt, const std::string& what, double scale = 1) {
  const Tensor x = inputs(dt, 1), g = data({24, 37}, dt, 2);
  const auto [yc, dc] = forward_backward(f, x, g);
  const auto [yg, dg] = forward_backward(f, gpu(x), gpu(g));
  check_parity(yg, yc, what + ": forward", kUlps, scale);
  check_parity(dg, dc, what + ": backward", kUlps, scale);
  const auto [ycs, dcs] = forward_backward(f, x.t(), g.t());
  const auto [ygs, dgs] = forward_backward(f, gpu(x).t(), gpu(g).t());
  check_parity(ygs, ycs, what + ": forward, strided", kUlps, scale);
  check_parity(dgs, dcs, what + ": backward, strided", kUlps, scale);
}

// gelu_tanh's derivative has ½x(1 − tanh² u)·u′ with tanh u → −1 for x ≲ −3: a last-bit
// difference between the two libraries' tanh becomes g·5·ulp(1) around x ≈ −5, in
// either dtype, where the value itself is near 0.
double conditioning(const std::string& name) { return name == "gelu_tanh" || name == "GELU tanh" ? 8 : 1; }

}  // namespace

TEST_CASE("cuda: every elementwise activation matches the CPU, forward and backward") {
  if (!have_gpu()) return;
  for (const Elementwise& a : elementwise_activations())
    for (DType dt : {kFloat32, kFloat64})
      check_activation(a.f, dt, a.name + " " + dtype_name(dt), conditioning(a.name));
}

TEST_CASE("cuda: activations save the same tensor on the device as on the CPU") {
  if (!have_gpu()) return;
  Variable x(gpu(data({3, 5, 8}, kFloat32, 3)), true);
  for (const Elementwise& a : elementwise_activations()) {
    INFO(a.name);
    Variable y = a.f(x);
    REQUIRE(saved_tensors(y).size() == 1);
    CHECK(saved_tensors(y)[0].device() == Device::cuda());
    CHECK(saved_tensors(y)[0].shares_storage(a.saves_output ? y.data() : x.data()));
  }
}

TEST_CASE("cuda: prelu forward, input gradient and slope gradient match the CPU") {
  if (!have_gpu()) return;
  struct Case {
    Shape shape;
    int64_t slopes;
    bool specials;  // NaN, ±Inf, ±0 in channel 0 (whose slope gradient is then NaN)
  };
  // Per channel with spatial dims; several reduction chunks per channel (8·64·64 > 4096);
  // one slope for everything; channels without spatial dims.
  const std::vector<Case> cases = {{{2, 4, 3}, 4, true},
                                   {{4, 5, 33, 17}, 5, false},
                                   {{8, 3, 64, 64}, 3, false},
                                   {{1000, 37}, 1, false},
                                   {{300, 6}, 6, false}};
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases) {
      INFO(shape_str(c.shape) << " with " << c.slopes << " slopes, " << dtype_name(dt));
      const Tensor x = data(c.shape, dt, 4, c.specials), g = data(c.shape, dt, 5);
      const Tensor w = uniform({c.slopes}, 0.05, 0.5, dt);
      // The slope gradient sums many terms: its tolerance is in units of Σ|g·x| (finite terms).
      double terms = 0;
      const auto vx = x.to_vector<double>(), vg = g.to_vector<double>();
      for (size_t i = 0; i < vx.size(); ++i)
        if (std::isfinite(vx[i])) terms += std::abs(vg[i] * vx[i]);
      for (const bool need_x : {true, false})
        for (const bool need_w : {true, false}) {
          if (!need_x && !need_w) continue;
          INFO("gradient of x: " << need_x << ", of the slopes: " << need_w);
          Variable xc(x, need_x), wc(w, need_w), xg(gpu(x), need_x), wg(gpu(w), need_w);
          Variable yc = prelu(xc, wc), yg = prelu(xg, wg);
          check_parity(yg.data(), yc.data(), "forward", kUlps);
          yc.backward(g);
          yg.backward(gpu(g));
          if (need_x) check_parity(xg.grad(), xc.grad(), "input gradient", kUlps);
          if (need_w) check_parity(wg.grad(), wc.grad(), "slope gradient", kUlps, terms);
        }
    }
  // A transposed input and upstream gradient (the kernels take contiguous copies).
  const Tensor xt = data({4, 6}, kFloat64, 6), gt = data({4, 6}, kFloat64, 7);
  Variable xc(xt.t(), true), wc(full({4}, 0.2, kFloat64), true);
  Variable xg(gpu(xt).t(), true), wg(full({4}, 0.2, kFloat64, Device::cuda()), true);
  prelu(xc, wc).backward(gt.t());
  prelu(xg, wg).backward(gpu(gt).t());
  check_parity(xg.grad(), xc.grad(), "input gradient, strided", kUlps);
  check_parity(wg.grad(), wc.grad(), "slope gradient, strided", kUlps, 100);
}

TEST_CASE("cuda: prelu of an empty input (a zero-sized spatial dim) launches nothing") {
  if (!have_gpu()) return;
  Variable x(zeros({2, 3, 0}, kFloat32, Device::cuda()), true), w(full({3}, 0.25, kFloat32, Device::cuda()), true);
  Variable y = prelu(x, w);
  CHECK(shape_str(y.shape()) == "[2, 3, 0]");
  y.backward(zeros({2, 3, 0}, kFloat32, Device::cuda()));
  CHECK(w.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
}

TEST_CASE("cuda: prelu with the slopes on another device is an error naming both") {
  if (!have_gpu()) return;
  Variable x(zeros({2, 3}, kFloat32, Device::cuda())), w(full({3}, 0.25));
  CHECK_THROWS_WITH_AS(prelu(x, w), "prelu: weight on cpu but input on cuda:0", Error);
}

TEST_CASE("cuda: stochastic_gelu draws the CPU's mask and matches its backward") {
  if (!have_gpu()) return;
  for (DType dt : {kFloat32, kFloat64})
    for (const bool strided : {false, true}) {
      INFO(dtype_name(dt) << (strided ? ", strided" : ""));
      Tensor x = data({64, 1000}, dt, 8, true), g = data({64, 1000}, dt, 9);
      if (strided) {
        x = x.t();
        g = g.t();
      }
      Generator gen_c(42), gen_g(42);
      gen_c.advance(12345);
      gen_g.advance(12345);
      const uint64_t offset = gen_c.offset();
      Variable xc(x, true), xg(gpu(x), true);
      Variable yc = stochastic_gelu(xc, true, &gen_c), yg = stochastic_gelu(xg, true, &gen_g);
      CHECK(gen_g.offset() == gen_c.offset());
      // y is x or 0. Element i (row-major) keeps x where u_i ≤ Φ(x_i); the devices may
      // disagree only where u_i and Φ(x_i) are within rounding of each other (libm's and
      // CUDA's erfc differ in the last bits).
      const auto vx = x.contiguous().to_vector<double>();
      const auto vc = yc.data().to_vector<double>(), vg = yg.data().cpu().to_vector<double>();
      int64_t kept = 0;
      for (size_t i = 0; i < vx.size(); ++i) {
        kept += vc[i] != 0;
        if (vc[i] == vg[i] || (std::isnan(vc[i]) && std::isnan(vg[i]))) continue;
        const double u = philox_uniform(philox4x32(42, offset + i).w[0]);
        INFO("element " << i << ": x " << vx[i] << ", cpu " << vc[i] << ", gpu " << vg[i]);
        CHECK(std::abs(u - special::Phi(vx[i])) < 1e-12);
      }
      CHECK(kept > (int64_t)vx.size() / 4);  // the mask is not trivially empty
      yc.backward(g);
      yg.backward(gpu(g));
      check_parity(xg.grad(), xc.grad(), "backward", kUlps);
    }
}

TEST_CASE("cuda: activation modules moved to the device match the CPU") {
  if (!have_gpu()) return;
  using Make = std::function<std::shared_ptr<Module>(DType)>;
  const std::vector<std::pair<std::string, Make>> modules = {
      {"ReLU", [](DType) { return std::make_shared<ReLU>(); }},
      {"LeakyReLU", [](DType) { return std::make_shared<LeakyReLU>(0.1); }},
      {"PReLU", [](DType dt) { return std::make_shared<PReLU>(3, 0.25, dt); }},
      {"ELU", [](DType) { return std::make_shared<ELU>(0.5); }},
      {"SELU", [](DType) { return std::make_shared<SELU>(); }},
      {"CELU", [](DType) { return std::make_shared<CELU>(2.0); }},
      {"GELU", [](DType) { return std::make_shared<GELU>(); }},
      {"GELU tanh", [](DType) { return std::make_shared<GELU>("tanh"); }},
      {"SiLU", [](DType) { return std::make_shared<SiLU>(); }},
      {"Mish", [](DType) { return std::make_shared<Mish>(); }},
      {"Softplus", [](DType) { return std::make_shared<Softplus>(2.0, 10.0); }},
      {"Sigmoid", [](DType) { return std::make_shared<Sigmoid>(); }},
      {"Tanh", [](DType) { return std::make_shared<Tanh>(); }},
      {"Hardsigmoid", [](DType) { return std::make_shared<Hardsigmoid>(); }},
      {"Hardswish", [](DType) { return std::make_shared<Hardswish>(); }},
      {"HardGELU", [](DType) { return std::make_shared<HardGELU>(true); }},
      {"HardGELU clamped (eval)",
       [](DType) {
         auto m = std::make_shared<HardGELU>(true);
         m->eval();
         return m;
       }},
      {"StochasticGELU (eval)",
       [](DType) {
         auto m = std::make_shared<StochasticGELU>();
         m->eval();
         return m;
       }},
  };
  for (DType dt : {kFloat32, kFloat64})
    for (const auto& module : modules) {
      const std::string& name = module.first;  // not a structured binding: INFO's lambda captures it (clang 14)
      const Make& make = module.second;
      INFO(name << " " << dtype_name(dt));
      const std::shared_ptr<Module> mc = make(dt), mg = make(dt);
      mg->to(Device::cuda());
      const Tensor x = mul(data({2, 3, 5, 4}, dt, 10, true), 4.0), g = data({2, 3, 5, 4}, dt, 11);
      const auto [yc, dc] = forward_backward([&](const Variable& v) { return (*mc)(v); }, x, g);
      const auto [yg, dg] = forward_backward([&](const Variable& v) { return (*mg)(v); }, gpu(x), gpu(g));
      check_parity(yg, yc, "forward", kUlps, conditioning(name));
      check_parity(dg, dc, "backward", kUlps, conditioning(name));
      const auto pc = mc->named_parameters(), pg = mg->named_parameters();
      REQUIRE(pc.size() == pg.size());
      for (size_t i = 0; i < pc.size(); ++i)
        check_parity(pg[i].second.grad(), pc[i].second.grad(), pc[i].first, kUlps, 100);
    }
}
