// Vector activations (VecGELU, ProbabilisticVecGELU, VecErf) and their groupings:
// values against the mpmath table and closed forms, float64 gradchecks for every
// grouping and d ∈ {1, 2, 3, 16, 64, 1024}, numerics at r = 0 and r → ∞, and the
// stochastic form tested statistically (4σ on 10⁶ draws).
#include <doctest/doctest.h>

#include <cmath>

#include "activations/chi_gate.h"
#include "activations/special.h"
#include "autograd/gradcheck.h"
#include "core/parallel.h"
#include "core/random.h"
#include "test_activations_common.h"

using namespace tg;
using namespace tg::test_act;

namespace {

using G = VectorGrouping;

// Backward with upstream g; returns the input gradient.
Tensor grad_of(const std::function<Variable(const Variable&)>& f, const Tensor& x, const Tensor& g) {
  Variable v(x, true);
  f(v).backward(g);
  return v.grad();
}

// The VecGELU gate s = P(d/2, r²/2) (its accuracy is tested in test_special.cpp).
double gate(double r2, int64_t d) { return special::gammainc_p(0.5 * d, 0.5 * r2); }

}  // namespace

TEST_CASE("vector activations: the gate matches the mpmath table (value and derivative)") {
  int checked = 0;
  for (const RefRow& row : read_activation_table()) {
    if (row.name == "vec_gelu_scale") {
      // v = (r, 0, …, 0) makes ‖v‖² = r² exactly. y_0 = s·r; with g = e_0 the backward
      // gives dx_0 = s + (s′/r)·r·r = s + s′·r.
      const int64_t d = (int64_t)row.param;
      std::vector<double> v(d, 0.0);
      v[0] = row.x;
      Tensor x = from_vector(v, {1, d});
      std::vector<double> e0(d, 0.0);
      e0[0] = 1;
      Variable xv(x, true);
      Variable y = vec_gelu(xv, G::last_dim());
      y.backward(from_vector(e0, {1, d}));
      INFO("d=" << d << " r=" << row.x);
      const double s = y.data().to_vector<double>()[0] / row.x;
      CHECK(std::abs(s - row.y) <= 1e-12 * row.y + 1e-300);
      const double want = row.y + row.dy * row.x;
      CHECK(std::abs(xv.grad().to_vector<double>()[0] - want) <= 1e-12 * want + 1e-300);
      ++checked;
    } else if (row.name == "vec_erf_scale") {
      // Same construction in d = 3; ∂L/∂σ with g = e_0 is (v·g)·∂s/∂σ = r·∂s/∂σ.
      Tensor x = from_vector(std::vector<double>{row.x, 0, 0}, {1, 3});
      Variable xv(x, true), sigma(full({1}, row.param, kFloat64), true);
      Variable y = vec_erf(xv, sigma, G::last_dim());
      y.backward(from_vector(std::vector<double>{1, 0, 0}, {1, 3}));
      INFO("sigma=" << row.param << " r=" << row.x);
      CHECK(y.data().to_vector<double>()[0] / row.x == doctest::Approx(row.y).epsilon(1e-12));
      CHECK(xv.grad().to_vector<double>()[0] == doctest::Approx(row.y + row.dy * row.x).epsilon(1e-12));
      CHECK(sigma.grad().item() == doctest::Approx(row.x * row.dparam).epsilon(1e-10));
      ++checked;
    }
  }
  CHECK(checked == 7 * 9 + 3 * 5);
}

TEST_CASE("vector activations: the closed-form gate for even d agrees with special::gammainc_p") {
  // chi_gate's fast path (even d ≤ 64, x ∈ [1e-3, 600]) against the general
  // log-space implementation (itself checked against mpmath in test_special.cpp),
  // on a log grid of x that crosses the switch between the power series and 1 − Q.
  double worst_p = 0, worst_dp = 0;
  for (int64_t d = 2; d <= 66; d += 2) {
    for (double x = 5e-4; x < 800; x *= 1.07) {
      double p, dp;
      act::chi_gate(d, x, p, dp);
      const double pr = special::gammainc_p(0.5 * d, x), dpr = special::gammainc_p_dx(0.5 * d, x);
      if (pr > 1e-290) worst_p = std::max(worst_p, std::abs(p - pr) / pr);
      if (dpr > 1e-290) worst_dp = std::max(worst_dp, std::abs(dp - dpr) / dpr);
    }
  }
  CHECK(worst_p < 1e-13);
  CHECK(worst_dp < 1e-12);
}

TEST_CASE("vector activations: d = 1 VecGELU is x·erf(|x|/√2), and VecErf with σ = 1 equals it") {
  Variable x(from_vector(std::vector<double>{-3, -1, -0.2, 0, 0.2, 1, 3, 7}, {8, 1}));
  Variable sigma(full({1}, 1.0, kFloat64));
  auto y = vec_gelu(x, G::last_dim()).data().to_vector<double>();
  auto ye = vec_erf(x, sigma, G::last_dim()).data().to_vector<double>();
  auto xs = x.data().to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = xs[i] * std::erf(std::abs(xs[i]) / std::sqrt(2.0));
    CHECK(y[i] == doctest::Approx(want).epsilon(1e-13));
    CHECK(ye[i] == doctest::Approx(want).epsilon(1e-13));
  }
  // Also through the other groupings: blocks(1) and channels with C = 1.
  Variable x4(randn({2, 1, 3, 3}, kFloat64));
  auto b1 = vec_gelu(x4, G::blocks(1)).data().to_vector<double>();
  auto c1 = vec_gelu(x4, G::channels()).data().to_vector<double>();
  auto v4 = x4.data().to_vector<double>();
  for (size_t i = 0; i < v4.size(); ++i) {
    const double want = v4[i] * std::erf(std::abs(v4[i]) / std::sqrt(2.0));
    CHECK(b1[i] == doctest::Approx(want).epsilon(1e-13));
    CHECK(c1[i] == doctest::Approx(want).epsilon(1e-13));
  }
}

TEST_CASE("vector activations: groupings cut the expected vectors, edge blocks have their own d") {
  // H = 5, W = 6, k = 4: block rows of height 4 and 1, block cols of width 4 and 2, so
  // d = 16, 8, 4, 2. Each block's scale is checked against P(d/2, r²/2) of that block.
  Generator gen(21);
  Tensor x = randn({2, 3, 5, 6}, kFloat64, &gen);
  auto y = vec_gelu(Variable(x), G::blocks(4)).data().to_vector<double>();
  auto v = x.to_vector<double>();
  const int rows[2][2] = {{0, 4}, {4, 5}}, cols[2][2] = {{0, 4}, {4, 6}};
  int vectors = 0;
  for (int plane = 0; plane < 6; ++plane)
    for (auto& rr : rows)
      for (auto& cc : cols) {
        double r2 = 0;
        for (int i = rr[0]; i < rr[1]; ++i)
          for (int j = cc[0]; j < cc[1]; ++j) r2 += v[plane * 30 + i * 6 + j] * v[plane * 30 + i * 6 + j];
        const int64_t d = (rr[1] - rr[0]) * (cc[1] - cc[0]);
        const double s = gate(r2, d);
        for (int i = rr[0]; i < rr[1]; ++i)
          for (int j = cc[0]; j < cc[1]; ++j) {
            const int k = plane * 30 + i * 6 + j;
            CHECK(y[k] == doctest::Approx(s * v[k]).epsilon(1e-14));
          }
        ++vectors;
      }
  CHECK(vectors == 24);
  CHECK(VectorPlan({2, 3, 5, 6}, G::blocks(4), "t").count() == 24);
  CHECK(VectorPlan({2, 3, 5, 6}, G::blocks(4), "t").patch(3).dim() == 2);
  // Channels: the vector at pixel (n, h, w) is x[n, :, h, w], d = C.
  auto yc = vec_gelu(Variable(x), G::channels()).data().to_vector<double>();
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 30; ++p) {
      double r2 = 0;
      for (int c = 0; c < 3; ++c) r2 += v[n * 90 + c * 30 + p] * v[n * 90 + c * 30 + p];
      for (int c = 0; c < 3; ++c)
        CHECK(yc[n * 90 + c * 30 + p] == doctest::Approx(gate(r2, 3) * v[n * 90 + c * 30 + p]).epsilon(1e-14));
    }
  // Last dim: rows of 6.
  auto yl = vec_gelu(Variable(x), G::last_dim()).data().to_vector<double>();
  for (int row = 0; row < 2 * 3 * 5; ++row) {
    double r2 = 0;
    for (int j = 0; j < 6; ++j) r2 += v[row * 6 + j] * v[row * 6 + j];
    for (int j = 0; j < 6; ++j) CHECK(yl[row * 6 + j] == doctest::Approx(gate(r2, 6) * v[row * 6 + j]).epsilon(1e-14));
  }
  // Channels equals last_dim on the channels-last layout, across tiles of positions and
  // thread ranges (48,000 elements run in parallel), forward and backward.
  Tensor xl = randn({3, 16, 10, 100}, kFloat64, &gen), gl = randn({3, 16, 10, 100}, kFloat64, &gen);
  auto by_channels = [](const Variable& t) { return vec_gelu(t, G::channels()); };
  auto by_last_dim = [](const Variable& t) {
    return permute(vec_gelu(contiguous(permute(t, {0, 2, 3, 1})), G::last_dim()), {0, 3, 1, 2});
  };
  CHECK(allclose(by_channels(Variable(xl)).data(), by_last_dim(Variable(xl)).data(), 1e-14, 1e-15));
  CHECK(allclose(grad_of(by_channels, xl, gl), grad_of(by_last_dim, xl, gl), 1e-13, 1e-14));
  // A non-contiguous input gives the same result as its contiguous copy.
  Tensor xt = x.transpose(2, 3);
  CHECK(allclose(vec_gelu(Variable(xt), G::blocks(4)).data(), vec_gelu(Variable(xt.contiguous()), G::blocks(4)).data(),
                 0, 0));
}

TEST_CASE("vector activations: float64 gradcheck for every grouping and d in {1,2,3,16,64,1024}") {
  Generator gen(33);
  auto check = [&](const Shape& shape, const G& g, double scale) {
    INFO(g.str() << " shape " << shape_str(shape) << " scale " << scale);
    Tensor x = randn(shape, kFloat64, &gen) * scale;
    auto r = gradcheck([&](const std::vector<Variable>& v) { return vec_gelu(v[0], g); }, {x});
    CHECK_MESSAGE(r.ok, r.message);
    auto re = gradcheck([&](const std::vector<Variable>& v) { return vec_erf(v[0], v[1], g); },
                        {x, full({1}, 0.8, kFloat64)});
    CHECK_MESSAGE(re.ok, re.message);
  };
  // scale 1 puts r near √d, the gate's transition; 0.05 near zero; 4 in the flat tail.
  for (int64_t d : {1, 2, 3, 16, 64}) {
    for (double scale : {0.05, 1.0, 4.0}) check({3, d}, G::last_dim(), scale);
    check({2, d, 2, 2}, G::channels(), 1.0);
  }
  check({1, 1024}, G::last_dim(), 1.0);
  check({1, 1024, 1, 1}, G::channels(), 1.0);
  for (double scale : {0.05, 1.0, 4.0}) check({2, 2, 8, 8}, G::blocks(4), scale);
  check({1, 2, 5, 6}, G::blocks(4), 1.0);  // edge blocks with d = 8, 4, 2
  check({1, 1, 3, 3}, G::blocks(1), 1.0);
  check({1, 2, 4, 6}, G::blocks(2), 1.0);
  // A zero vector among others: the gradient there is s(0)·g = 0, finite and smooth.
  Tensor x = randn({4, 3}, kFloat64, &gen);
  x.select(0, 1).zero_();
  auto r = gradcheck([](const std::vector<Variable>& v) { return vec_gelu(v[0], G::last_dim()); }, {x});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("vector activations: finite at r = 0 and r → ∞, float32 with large and tiny norms, d up to 4096") {
  for (DType dt : {kFloat32, kFloat64}) {
    for (int64_t d : {1, 2, 16, 4096}) {
      for (double mag : {0.0, 1e-30, 1e-20, 1.0, 1e10, 1e30}) {
        INFO(dtype_name(dt) << " d=" << d << " |x|=" << mag);
        Tensor x = full({2, d}, mag, dt);
        x.select(0, 1).mul_(-1.0);
        Tensor g = full({2, d}, 1.0, dt);
        Variable xv(x, true);
        Variable y = vec_gelu(xv, G::last_dim());
        y.backward(g);
        auto yv = y.data().to_vector<double>(), gv = xv.grad().to_vector<double>();
        for (size_t i = 0; i < yv.size(); ++i) {
          REQUIRE(std::isfinite(yv[i]));
          REQUIRE(std::isfinite(gv[i]));
        }
        if (mag >= 1e10) {  // s = 1, s′ = 0: identity
          CHECK(yv[0] == doctest::Approx(mag).epsilon(1e-6));
          CHECK(gv[0] == doctest::Approx(1.0).epsilon(1e-6));
        }
        if (mag == 0.0) CHECK(gv[0] == 0.0);
      }
    }
  }
  // float32 agrees with float64 on the same (float-representable) inputs.
  Generator gen(44);
  for (double scale : {1e-15, 1.0, 1e15}) {
    Tensor x32 = randn({4, 16, 8, 8}, kFloat32, &gen) * scale;
    Tensor g32 = randn({4, 16, 8, 8}, kFloat32, &gen);
    for (const G& g : {G::blocks(4), G::channels(), G::last_dim()}) {
      INFO(g.str() << " scale " << scale);
      auto f = [&](const Variable& v) { return vec_gelu(v, g); };
      Tensor y32 = f(Variable(x32)).data(), y64 = f(Variable(x32.to(kFloat64))).data();
      CHECK(allclose(y32.to(kFloat64), y64, 1e-5, 1e-6 * scale * 1e-3));
      Tensor d32 = grad_of(f, x32, g32), d64 = grad_of(f, x32.to(kFloat64), g32.to(kFloat64));
      CHECK(allclose(d32.to(kFloat64), d64, 1e-4, 1e-5));
    }
  }
}

TEST_CASE("vector activations: probabilistic VecGELU, mask frequency and mean within 4 sigma over 1e6 draws") {
  // d = 2, v = (a, 0): p = P(1, a²/2) = 1 − e^(−a²/2). Half the vectors at a = 1, half at a = 2.
  const int64_t n = 1000000;
  Tensor x = zeros({n, 2}, kFloat64);
  x.narrow(0, 0, n / 2).select(1, 0).fill_(1.0);
  x.narrow(0, n / 2, n / 2).select(1, 0).fill_(2.0);
  Generator gen(2024);
  auto y = probabilistic_vec_gelu(Variable(x), G::last_dim(), true, &gen).data().to_vector<double>();
  for (int half = 0; half < 2; ++half) {
    const double a = half ? 2.0 : 1.0, p = 1 - std::exp(-a * a / 2);
    double kept = 0, other = 0;  // y = m·v with m ∈ {0, 1}: every y_0 is 0 or a
    for (int64_t i = half * n / 2; i < (half + 1) * n / 2; ++i) {
      kept += y[2 * i] == a;
      other += y[2 * i] != a && y[2 * i] != 0.0;
    }
    CHECK(other == 0);
    const double m = n / 2.0, sigma = std::sqrt(p * (1 - p) / m);
    INFO("a=" << a << " freq " << kept / m << " p " << p);
    CHECK(std::abs(kept / m - p) < 4 * sigma);
  }
  // Mean output = eval output (p·v) within 4σ, on random vectors in d = 3.
  Tensor xr = randn({n / 3, 3}, kFloat64, &gen);
  auto ys = probabilistic_vec_gelu(Variable(xr), G::last_dim(), true, &gen).data().to_vector<double>();
  auto ye = probabilistic_vec_gelu(Variable(xr), G::last_dim(), false).data().to_vector<double>();
  auto xv = xr.to_vector<double>();
  double diff = 0, var = 0;
  for (size_t i = 0; i < ys.size(); ++i) {
    const double p = xv[i] != 0 ? ye[i] / xv[i] : 0;
    diff += ys[i] - ye[i];
    var += xv[i] * xv[i] * p * (1 - p);
  }
  CHECK(std::abs(diff) < 4 * std::sqrt(var));
  CHECK(var > 0);
}

TEST_CASE("vector activations: probabilistic VecGELU is reproducible and its backward is g·p") {
  Tensor x = randn({2, 4, 8, 8}, kFloat64);
  Generator g1(9), g2(9), g3(10);
  Tensor a = probabilistic_vec_gelu(Variable(x), G::blocks(4), true, &g1).data();
  Tensor b = probabilistic_vec_gelu(Variable(x), G::blocks(4), true, &g2).data();
  Tensor c = probabilistic_vec_gelu(Variable(x), G::blocks(4), true, &g3).data();
  CHECK(allclose(a, b, 0, 0));
  CHECK_FALSE(allclose(a, c, 0, 0));
  CHECK(g1.offset() == 2 * 4 * 2 * 2);  // one counter per vector
  // The mask does not depend on the thread count.
  const int threads = get_num_threads();
  set_num_threads(1);
  Generator g4(9);
  Tensor big = randn({4, 8, 32, 32}, kFloat32);
  Tensor one = probabilistic_vec_gelu(Variable(big), G::blocks(4), true, &g4).data();
  set_num_threads(2);
  Generator g5(9);
  Tensor two = probabilistic_vec_gelu(Variable(big), G::blocks(4), true, &g5).data();
  set_num_threads(threads);
  CHECK(allclose(one, two, 0, 0));
  // Backward: dx = p·g with p = P(d/2, r²/2) per vector; the eval form is VecGELU.
  Tensor gy = randn(x.shape(), kFloat64);
  for (const G& grouping : {G::blocks(4), G::channels(), G::last_dim()}) {
    INFO(grouping.str());
    Generator g6(1);
    Tensor dx = grad_of([&](const Variable& v) { return probabilistic_vec_gelu(v, grouping, true, &g6); }, x, gy);
    Tensor p = vec_gelu(Variable(x), grouping).data() / x;  // p per element of each vector
    CHECK(allclose(dx, p * gy, 1e-12, 1e-14));
  }
  auto r = gradcheck([](const std::vector<Variable>& v) { return probabilistic_vec_gelu(v[0], G::blocks(4), false); },
                     {randn({1, 2, 4, 4}, kFloat64)});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("vector activations: stochastic GELU, mask frequency, mean and reproducibility") {
  const int64_t n = 1000000;
  Tensor x = full({n}, 0.3, kFloat64);
  x.narrow(0, n / 2, n / 2).fill_(-1.0);
  Generator gen(77);
  auto y = stochastic_gelu(Variable(x), true, &gen).data().to_vector<double>();
  for (int half = 0; half < 2; ++half) {
    const double a = half ? -1.0 : 0.3, p = special::Phi(a), m = n / 2.0;
    double kept = 0;
    for (int64_t i = half * n / 2; i < (half + 1) * n / 2; ++i) kept += y[i] == a;
    INFO("x=" << a << " freq " << kept / m << " p " << p);
    CHECK(std::abs(kept / m - p) < 4 * std::sqrt(p * (1 - p) / m));
  }
  // Mean output equals the eval output x·Φ(x) within 4σ (random x).
  Tensor xr = randn({n}, kFloat64, &gen);
  auto ys = stochastic_gelu(Variable(xr), true, &gen).data().to_vector<double>();
  auto ye = stochastic_gelu(Variable(xr), false).data().to_vector<double>();
  auto xv = xr.to_vector<double>();
  double diff = 0, var = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double p = special::Phi(xv[i]);
    diff += ys[i] - ye[i];
    var += xv[i] * xv[i] * p * (1 - p);
  }
  CHECK(std::abs(diff) < 4 * std::sqrt(var));
  // Same seed, same mask; backward is g·Φ(x).
  Generator g1(5), g2(5);
  Tensor xs = randn({1000}, kFloat64);
  CHECK(allclose(stochastic_gelu(Variable(xs), true, &g1).data(), stochastic_gelu(Variable(xs), true, &g2).data(), 0, 0));
  Tensor gy = randn({1000}, kFloat64);
  Tensor dx = grad_of([&](const Variable& v) { return stochastic_gelu(v, true, &g1); }, xs, gy);
  auto dxv = dx.to_vector<double>(), xsv = xs.to_vector<double>(), gyv = gy.to_vector<double>();
  for (size_t i = 0; i < dxv.size(); ++i) CHECK(dxv[i] == doctest::Approx(gyv[i] * special::Phi(xsv[i])).epsilon(1e-14));
}

TEST_CASE("vector activations: modules and bad inputs") {
  VecErf m(G::last_dim(), 0.5, kFloat64);
  REQUIRE(m.named_parameters().size() == 1);
  CHECK(m.named_parameters()[0].first == "sigma");
  Variable x(randn({3, 5}, kFloat64));
  CHECK(allclose(m(x).data(), vec_erf(x, m.sigma, G::last_dim()).data(), 0, 0));
  VecGELU vg;
  CHECK(vg.grouping.kind == G::Kind::Blocks);
  CHECK(vg.grouping.block == 4);
  ProbabilisticVecGELU pv(G::last_dim());
  pv.eval();
  CHECK(allclose(pv(x).data(), vec_gelu(x, G::last_dim()).data(), 0, 0));
  CHECK_THROWS_WITH_AS(vec_gelu(x), "vec_gelu: grouping blocks(4) needs an N,C,H,W input, got shape [3, 5]", Error);
  CHECK_THROWS_WITH_AS(vec_gelu(x, G::blocks(0)), "vec_gelu: grouping blocks(k) needs k >= 1, got 0", Error);
  CHECK_THROWS_WITH_AS(vec_gelu(Variable(randn({4}, kFloat64)), G::channels()),
                       "vec_gelu: grouping channels needs an N,C,... input with C > 0, got shape [4]", Error);
  CHECK_THROWS_WITH_AS(probabilistic_vec_gelu(x), "probabilistic_vec_gelu: grouping blocks(4) needs an N,C,H,W input, got shape [3, 5]", Error);
  CHECK_THROWS_WITH_AS(vec_erf(x, Variable(full({1}, -1.0, kFloat64)), G::last_dim()), "vec_erf: sigma must be > 0, got -1",
                       Error);
  CHECK_THROWS_WITH_AS(vec_erf(x, Variable(full({2}, 1.0, kFloat64)), G::last_dim()),
                       "vec_erf: sigma must have one element, got shape [2]", Error);
  CHECK_THROWS_WITH_AS(VecErf(G::last_dim(), 0.0), "VecErf: sigma must be > 0, got 0", Error);
  CHECK_THROWS_WITH_AS(vec_gelu(Variable(from_vector(std::vector<int64_t>{1}, {1, 1})), G::last_dim()),
                       "vec_gelu: expected a float32 or float64 tensor, got int64", Error);
}
