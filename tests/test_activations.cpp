// Elementwise activations: values and derivatives against the mpmath table, float64
// gradchecks, saved-for-backward bytes, modules, and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "autograd/gradcheck.h"
#include "core/random.h"
#include "activations/kernels.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "test_activations_common.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::test_act;

namespace {

// Runs f on the table's x values; returns (y, dy/dx) via backward with g = 1.
std::pair<std::vector<double>, std::vector<double>> eval_with_grad(const std::function<Variable(const Variable&)>& f,
                                                                   const std::vector<double>& xs, DType dt) {
  Variable x(from_vector(xs, {(int64_t)xs.size()}).to(dt), true);
  Variable y = f(x);
  y.backward(ones_like(y.data()));
  return {y.data().to_vector<double>(), x.grad().to_vector<double>()};
}

// Moves points within 1e-3 of a kink away from it (central differences straddling a
// kink do not estimate the derivative).
Tensor away_from_kinks(Tensor x, const std::vector<double>& kinks) {
  auto v = x.to_vector<double>();
  for (double& e : v)
    for (double k : kinks)
      if (std::abs(e - k) < 1e-3) e = k + (e >= k ? 1e-2 : -1e-2);
  return from_vector(v, x.shape());
}

}  // namespace

TEST_CASE("activations: elementwise values and derivatives match the mpmath table") {
  std::map<std::string, std::vector<RefRow>> by_name;
  for (const RefRow& r : read_activation_table()) by_name[r.name].push_back(r);
  int checked = 0;
  for (const Elementwise& a : elementwise_activations()) {
    const std::string table_name = a.name == "stochastic_gelu_eval" ? "gelu" : a.name;
    if (!by_name.count(table_name)) continue;
    const auto& rows = by_name[table_name];
    std::vector<double> xs;
    for (const RefRow& r : rows) xs.push_back(r.x);
    for (DType dt : {kFloat64, kFloat32}) {
      auto [y, dy] = eval_with_grad(a.f, xs, dt);
      // float64: 1e-12 relative (absolute floor 1e-13 for the cancellation in
      // 1 + tanh(u) of gelu_tanh at x ≪ 0, which torch shares); float32: 2e-6 / 1e-6.
      const double rtol = dt == kFloat64 ? 1e-12 : 2e-6, atol = dt == kFloat64 ? 1e-13 : 1e-6;
      for (size_t i = 0; i < rows.size(); ++i) {
        const double xr = (double)(dt == kFloat32 ? (float)rows[i].x : rows[i].x);
        if (dt == kFloat32 && xr != rows[i].x) continue;  // x not exact in float: compared in float64 only
        INFO(a.name << " " << dtype_name(dt) << " x=" << rows[i].x);
        CHECK(std::abs(y[i] - rows[i].y) <= atol + rtol * std::abs(rows[i].y));
        if (!std::isnan(rows[i].dy)) CHECK(std::abs(dy[i] - rows[i].dy) <= atol + rtol * std::abs(rows[i].dy));
        ++checked;
      }
    }
  }
  CHECK(checked > 600);
}

TEST_CASE("activations: float64 gradcheck of every elementwise activation") {
  Generator gen(7);
  // Random points, points near 0 (|x| ≥ 1e-3, see away_from_kinks) and large magnitudes.
  Tensor pts = concat(std::vector<Tensor>{randn({40}, kFloat64, &gen) * 2.0, uniform({12}, -0.05, 0.05, kFloat64, &gen),
                       uniform({8}, 5, 40, kFloat64, &gen), uniform({8}, -40, -5, kFloat64, &gen)},
                      0);
  for (const Elementwise& a : elementwise_activations()) {
    INFO(a.name);
    Tensor x = away_from_kinks(pts, a.kinks);
    auto r = gradcheck([&](const std::vector<Variable>& v) { return a.f(v[0]); }, {x});
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("activations: prelu values, gradcheck with one slope and per channel") {
  // Values: y = x (x > 0), a_c·x.
  Variable x(from_vector(std::vector<double>{1, -2, 3, -4, -1, 2}, {1, 2, 3}));
  Variable w(from_vector(std::vector<double>{0.5, 0.25}, {2}));
  CHECK(prelu(x, w).data().to_vector<double>() == std::vector<double>{1, -1, 3, -1, -0.25, 2});
  Generator gen(3);
  // Points at exactly 0 are measure-zero under randn; the kink is not hit.
  Tensor xs = randn({3, 4, 5}, kFloat64, &gen), w4 = uniform({4}, 0.05, 0.5, kFloat64, &gen);
  auto r = gradcheck([](const std::vector<Variable>& v) { return prelu(v[0], v[1]); }, {xs, w4});
  CHECK_MESSAGE(r.ok, r.message);
  auto r1 = gradcheck([](const std::vector<Variable>& v) { return prelu(v[0], v[1]); }, {xs, full({1}, 0.2, kFloat64)});
  CHECK_MESSAGE(r1.ok, r1.message);
  // A large input exercises the parallel reduction of the slope gradient.
  Tensor big = randn({8, 4, 64, 64}, kFloat64, &gen);
  Variable xb(big, true), wb(full({4}, 0.3, kFloat64), true);
  prelu(xb, wb).backward(ones_like(big));
  Tensor neg_sum = sum(where(le(big, zeros_like(big)), big, zeros_like(big)), {0, 2, 3});
  CHECK(allclose(wb.grad(), neg_sum, 1e-10, 1e-8));
}

TEST_CASE("activations: saved bytes are measured from the node and follow each declaration") {
  const Shape shape{2, 3, 8, 8};
  const int64_t n = shape_numel(shape);
  Generator gen(5);
  Variable x(randn(shape, kFloat32, &gen), true);
  for (const Elementwise& a : elementwise_activations()) {
    INFO(a.name);
    Variable y = a.f(x);
    REQUIRE(saved_tensors(y).size() == 1);
    CHECK(saved_bytes(y) == (size_t)n * 4);
    CHECK(saved_tensors(y)[0].shares_storage(a.saves_output ? y.data() : x.data()));
  }
  Variable w(full({3}, 0.25), true);
  CHECK(saved_bytes(prelu(x, w)) == (size_t)(n + 3) * 4);
  Variable ys = stochastic_gelu(x, true, &gen);
  CHECK(saved_bytes(ys) == (size_t)n * 4);
  CHECK(saved_tensors(ys)[0].shares_storage(x.data()));
  CHECK(saved_bytes(vec_gelu(x, VectorGrouping::blocks(4))) == (size_t)n * 4);
  CHECK(saved_bytes(vec_gelu(x, VectorGrouping::channels())) == (size_t)n * 4);
  // One p per vector: 2·3·(8/4)·(8/4) = 24 vectors; the input is not kept.
  Variable yp = probabilistic_vec_gelu(x, VectorGrouping::blocks(4), true, &gen);
  CHECK(saved_bytes(yp) == 24 * 4);
  Variable sigma(full({1}, 1.0), true);
  CHECK(saved_bytes(vec_erf(x, sigma, VectorGrouping::last_dim())) == (size_t)n * 4);
  // float64 doubles the bytes.
  CHECK(saved_bytes(relu(Variable(randn(shape, kFloat64, &gen), true))) == (size_t)n * 8);
}

TEST_CASE("activations: modules forward to their functions and register parameters") {
  Generator gen(11);
  Variable x(randn({2, 3, 4, 4}, kFloat64, &gen));
  auto same = [](const Variable& a, const Variable& b) { return allclose(a.data(), b.data(), 0, 0); };
  CHECK(same(LeakyReLU(0.1)(x), leaky_relu(x, 0.1)));
  CHECK(same(ELU(0.5)(x), elu(x, 0.5)));
  CHECK(same(SELU()(x), selu(x)));
  CHECK(same(CELU(2)(x), celu(x, 2)));
  CHECK(same(GELU("tanh")(x), gelu(x, "tanh")));
  CHECK(same(GELU()(x), gelu(x)));
  CHECK(same(SiLU()(x), silu(x)));
  CHECK(same(Swish()(x), silu(x)));
  CHECK(same(Mish()(x), mish(x)));
  CHECK(same(Softplus(2, 10)(x), softplus(x, 2, 10)));
  CHECK(same(Hardsigmoid()(x), hardsigmoid(x)));
  CHECK(same(Hardswish()(x), hardswish(x)));
  CHECK(same(ReLU()(x), relu(x)));
  CHECK(same(Tanh()(x), tanh(x)));
  CHECK(same(Sigmoid()(x), sigmoid(x)));
  HardGELU hg(true);
  CHECK(same(hg(x * 3.0), hardgelu(x * 3.0)));
  hg.eval();
  CHECK(same(hg(x * 3.0), hardgelu_clamped(x * 3.0)));
  PReLU p(3, 0.25, kFloat64);
  auto params = p.named_parameters();
  REQUIRE(params.size() == 1);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.data().to_vector<double>() == std::vector<double>{0.25, 0.25, 0.25});
  CHECK(same(p(x), prelu(x, p.weight)));
  StochasticGELU sg;
  sg.eval();
  CHECK(same(sg(x), gelu(x)));
}

TEST_CASE("activations: hardgelu_clamped is bounded to [-3/16, 3]") {
  Variable x(arange(-10, 10, 0.001, kFloat64));
  auto y = hardgelu_clamped(x).data().to_vector<double>();
  CHECK(*std::min_element(y.begin(), y.end()) == doctest::Approx(-3.0 / 16).epsilon(1e-12));
  CHECK(*std::max_element(y.begin(), y.end()) == 3.0);
  CHECK(hardgelu(Variable(tg::tensor({-0.75}, kFloat64))).item() == -0.1875);
}

// An input with a zero-sized spatial dim has inner = 0 elements per slope row: no
// division by zero, an empty output and zero slope gradients.
TEST_CASE("activations: prelu of an empty input") {
  Variable x(zeros({2, 3, 0}, kFloat64), true), w(full({3}, 0.25, kFloat64), true);
  Variable y = prelu(x, w);
  CHECK(shape_str(y.shape()) == "[2, 3, 0]");
  y.backward(zeros({2, 3, 0}, kFloat64));
  CHECK(w.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
}

TEST_CASE("activations: bad inputs raise errors naming the op") {
  Variable xi(from_vector(std::vector<int64_t>{1, 2}, {2}));
  CHECK_THROWS_WITH_AS(relu(xi), "relu: expected a float32 or float64 tensor, got int64", Error);
  CHECK_THROWS_WITH_AS(mish(xi), "mish: expected a float32 or float64 tensor, got int64", Error);
  Variable x(randn({2, 4, 5}, kFloat64));
  CHECK_THROWS_WITH_AS(
      prelu(x, Variable(full({3}, 0.25, kFloat64))),
      "prelu: weight of shape [3] needs 1 element or one per channel (dim 1) of the input of shape [2, 4, 5]", Error);
  CHECK_THROWS_WITH_AS(prelu(x, Variable(full({4}, 0.25, kFloat32))),
                       "prelu: weight dtype float32 does not match input dtype float64", Error);
  CHECK_THROWS_WITH_AS(gelu(x, "fast"), "gelu: approximate must be 'none' or 'tanh', got 'fast'", Error);
  CHECK_THROWS_WITH_AS(GELU("fast"), "GELU: approximate must be 'none' or 'tanh', got 'fast'", Error);
  CHECK_THROWS_WITH_AS(celu(x, 0), "celu: alpha must not be 0", Error);
  CHECK_THROWS_WITH_AS(softplus(x, 0), "softplus: beta must not be 0", Error);
  Variable a(randn({2}, kFloat64), true);
  CHECK_THROWS_WITH_AS(saved_tensors(add(a, a)), "saved_tensors: the node 'add' was not recorded by an activation",
                       Error);
  {
    NoGrad ng;
    CHECK_THROWS_WITH_AS(saved_bytes(relu(a)),
                         "saved_tensors: the variable has no grad_fn (made under NoGrad, or no input requires a gradient)",
                         Error);
  }
}

TEST_CASE("stochastic_gelu: the float32 packet sampler draws op.sample's mask bit for bit, near-ties included") {
  // The packet path decides by the float32 packet Φ unless the draw u lies within 1e-6
  // of it; then by op.sample's double Φ. Every 97th x is set so that Φ(x) ≈ u of its own
  // draw (within float32 rounding), which forces the near-tie path.
  const act::StochasticGelu op{0x5eedULL, (uint64_t(1) << 32) - 12345};  // counters cross 2^32
  const int64_t n = (int64_t(1) << 18) + 5;
  Generator gen(17);
  std::vector<float> xs = mul(randn({n}, kFloat32, &gen), 3.0).to_vector<float>();
  const float inf = std::numeric_limits<float>::infinity();
  xs[1] = std::nanf(""), xs[2] = inf, xs[3] = -inf, xs[4] = 0.0f, xs[5] = -0.0f, xs[6] = 40.0f, xs[7] = -40.0f;
  for (int64_t i = 8; i < n; i += 97) {
    const double u = philox_uniform(philox4x32(op.seed, op.offset + (uint64_t)i).w[0]);
    double lo = -40, hi = 40;  // Φ(x) = u by bisection
    for (int k = 0; k < 200; ++k) (special::Phi(0.5 * (lo + hi)) < u ? lo : hi) = 0.5 * (lo + hi);
    xs[i] = (float)lo;
  }
  Tensor x = from_vector(xs, {n});
  const std::vector<float> y = act::stochastic_gelu_stub(Device::cpu(), "stochastic_gelu", op, x).to_vector<float>();
  int64_t mismatches = 0, kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float want = op.sample(xs[i], (uint64_t)i);
    const bool same = std::memcmp(&want, &y[i], sizeof(float)) == 0 || (std::isnan(want) && std::isnan(y[i]));
    mismatches += !same;
    kept += y[i] != 0.0f;
  }
  CHECK(mismatches == 0);
  CHECK(kept > n / 3);  // E[Φ(x)] = 1/2 for symmetric x: a sampler that always drops would fail
  CHECK(kept < 2 * n / 3);
}
