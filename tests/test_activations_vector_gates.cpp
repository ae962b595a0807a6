// Vector activations beyond VecGELU: norm gates (built-in and any elementwise φ), external
// gates (GLU, SwiGLU), group operations (Maxout, GroupSort, NormPool, NormMaxPool) and
// per-vector dropout. Every gate, VecGELU and VecErf included, is gradchecked at v = 0,
// tiny and huge norms for d = 1, 2, 3, 16; values against closed forms; ties and limits
// as documented; bad groupings and shapes with their error texts.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "activations/activations.h"
#include "autograd/gradcheck.h"
#include "core/random.h"
#include "test_util.h"

using namespace tg;
using namespace tg::ops;

namespace {

using G = VectorGrouping;
using Fn = std::function<Variable(const Variable&)>;

Variable biased(const Variable& x, const G& g, const NormPhi& phi, bool normalize, const Variable& bias) {
  NormActivationOptions o;
  o.normalize = normalize;
  o.bias = bias;
  return norm_activation(x, g, phi, o);
}

// A gate under test: f(x) on last_dim vectors, and whether it is continuous at v = 0.
struct Gate {
  std::string name;
  Fn f;
  bool continuous_at_zero;
};

std::vector<Gate> gates() {
  const G g = G::last_dim();
  auto b = [](double v) { return Variable(full({1}, v, kFloat64)); };
  return {
      {"vec_gelu", [g](const Variable& x) { return vec_gelu(x, g); }, true},
      {"vec_erf", [g](const Variable& x) { return vec_erf(x, Variable(full({1}, 0.7, kFloat64)), g); }, true},
      {"squash", [g](const Variable& x) { return norm_activation(x, g, NormPhi::sabour_squash()); }, true},
      {"escnn_squash",
       [g](const Variable& x) { return biased(x, g, NormPhi::escnn_squash(), true, Variable()); }, true},
      {"n_relu b=-0.3", [g, b](const Variable& x) { return biased(x, g, NormPhi::relu(), true, b(-0.3)); }, true},
      {"n_relu b=0", [g, b](const Variable& x) { return biased(x, g, NormPhi::relu(), true, b(0.0)); }, true},
      {"sigmoid plain b=0.4", [g, b](const Variable& x) { return biased(x, g, NormPhi::sigmoid(), false, b(0.4)); },
       true},
      {"softplus plain", [g](const Variable& x) { return norm_activation(x, g, NormPhi::softplus()); }, true},
      {"n_sigmoid b=-1", [g, b](const Variable& x) { return biased(x, g, NormPhi::sigmoid(), true, b(-1)); }, false},
      {"n_softplus b=-1", [g, b](const Variable& x) { return biased(x, g, NormPhi::softplus(), true, b(-1)); },
       false},
      {"gelu as phi, normalized, b=0",
       [g](const Variable& x) { return biased(x, g, NormPhi::activation("gelu"), true, Variable()); }, true},
      {"tanh as phi, plain, b=0.2",
       [g, b](const Variable& x) { return biased(x, g, NormPhi::activation("tanh"), false, b(0.2)); }, true},
  };
}

Tensor grad_of(const Fn& f, const Tensor& x, const Tensor& g) {
  Variable v(x, true);
  f(v).backward(g);
  return v.grad();
}

}  // namespace

TEST_CASE("vector gates: gradcheck at v = 0, tiny, unit and huge norms for d = 1, 2, 3, 16, every gate") {
  Generator gen(5);
  for (const Gate& gate : gates()) {
    for (int64_t d : {1, 2, 3, 16}) {
      // scale 1e-9: norms far below gradcheck's step (the function must be C¹ through 0);
      // 1e5 with a relative step: the flat tails.
      for (double scale : {0.0, 1e-9, 1.0, 1e5}) {
        if (!gate.continuous_at_zero && scale < 1) continue;  // no limit at v = 0 (norm_gate.h)
        INFO(gate.name << " d=" << d << " scale " << scale);
        Tensor x = randn({3, d}, kFloat64, &gen) * (scale == 0 ? 1.0 : scale);
        if (scale == 0) x.select(0, 1).zero_();  // one zero vector among others
        GradcheckOptions o;
        if (scale >= 1e5) o.eps = 1e-3;
        auto r = gradcheck([&](const std::vector<Variable>& v) { return gate.f(v[0]); }, {x}, o);
        CHECK_MESSAGE(r.ok, r.message);
      }
    }
  }
}

TEST_CASE("vector gates: the Jacobian at v = 0 is s(0)·I, the limit, for every gate continuous there") {
  // dx at a zero vector for upstream g is s(0)·g: φ(b) for plain gates, φ′(b⁺) for
  // normalized ones with φ(b) = 0, 0 where there is no limit (n_sigmoid: y(0) = 0).
  const std::vector<std::pair<std::string, double>> want = {
      {"vec_gelu", 0.0},
      {"vec_erf", 0.0},
      {"squash", 0.0},
      {"escnn_squash", 1.0},
      {"n_relu b=-0.3", 0.0},
      {"n_relu b=0", 1.0},
      {"sigmoid plain b=0.4", 1 / (1 + std::exp(-0.4))},
      {"softplus plain", std::log(2.0)},
      {"n_sigmoid b=-1", 0.0},
      {"n_softplus b=-1", 0.0},
      {"gelu as phi, normalized, b=0", 0.5},
      {"tanh as phi, plain, b=0.2", std::tanh(0.2)},
  };
  const std::vector<Gate> all = gates();
  REQUIRE(all.size() == want.size());
  for (size_t i = 0; i < all.size(); ++i) {
    REQUIRE(all[i].name == want[i].first);
    for (int64_t d : {1, 3, 16}) {
      INFO(all[i].name << " d=" << d);
      Tensor x = zeros({1, d}, kFloat64), g = randn({1, d}, kFloat64);
      Variable xv(x, true);
      Variable y = all[i].f(xv);
      CHECK(allclose(y.data(), zeros({1, d}, kFloat64), 0, 0));
      y.backward(g);
      CHECK(allclose(xv.grad(), g * want[i].second, 1e-15, 1e-15));
    }
  }
}

TEST_CASE("vector gates: values of the built-in norm gates against their closed forms") {
  Generator gen(7);
  Tensor x = randn({5, 2, 6, 5}, kFloat64, &gen);
  auto xv = x.to_vector<double>();
  for (const G& g : {G::blocks(4), G::channels(), G::last_dim()}) {
    const VectorPlan plan(x.shape(), g, "t");
    auto check = [&](const std::string& what, const Variable& y, const std::function<double(double)>& s) {
      INFO(what << " " << g.str());
      auto yv = y.data().to_vector<double>();
      for (int64_t v = 0; v < plan.count(); ++v) {
        const VectorPatch p = plan.patch(v);
        double r2 = 0;
        for (int64_t i = 0; i < p.rows; ++i)
          for (int64_t j = 0; j < p.cols; ++j) r2 += xv[p.base + i * p.row_stride + j] * xv[p.base + i * p.row_stride + j];
        const double sv = s(std::sqrt(r2));
        for (int64_t i = 0; i < p.rows; ++i)
          for (int64_t j = 0; j < p.cols; ++j) {
            const int64_t o = p.base + i * p.row_stride + j;
            CHECK(yv[o] == doctest::Approx(sv * xv[o]).epsilon(1e-14));
          }
      }
    };
    check("squash", norm_activation(Variable(x), g, NormPhi::sabour_squash()), [](double r) { return r / (1 + r * r); });
    check("escnn_squash", biased(Variable(x), g, NormPhi::escnn_squash(), true, Variable()),
          [](double r) { return 1 / (1 + r); });
    const Shape bs = vector_bias_shape(x.shape(), g);
    Tensor bias = full(bs, -1.2, kFloat64);
    check("n_relu", biased(Variable(x), g, NormPhi::relu(), true, Variable(bias)),
          [](double r) { return std::max(r - 1.2, 0.0) / r; });
    check("n_sigmoid", biased(Variable(x), g, NormPhi::sigmoid(), true, Variable(bias)),
          [](double r) { return 1 / (1 + std::exp(1.2 - r)) / r; });
    check("n_softplus", biased(Variable(x), g, NormPhi::softplus(), true, Variable(bias)),
          [](double r) { return std::log1p(std::exp(r - 1.2)) / r; });
    // Any elementwise activation as φ agrees with the built-in of the same function.
    CHECK(allclose(biased(Variable(x), g, NormPhi::activation("sigmoid"), true, Variable(bias)).data(),
                   biased(Variable(x), g, NormPhi::sigmoid(), true, Variable(bias)).data(), 1e-15, 1e-15));
    CHECK(allclose(grad_of([&](const Variable& v) { return biased(v, g, NormPhi::activation("softplus"), false, Variable(bias)); }, x, x),
                   grad_of([&](const Variable& v) { return biased(v, g, NormPhi::softplus(), false, Variable(bias)); }, x, x),
                   1e-13, 1e-14));
  }
  // What they save: the input; a function φ adds φ(t), φ′(t) per vector (16 bytes).
  Variable xr(x, true);
  CHECK(saved_bytes(norm_activation(xr, G::blocks(4), NormPhi::sabour_squash())) == x.nbytes());
  CHECK(saved_bytes(norm_activation(xr, G::blocks(4), NormPhi::activation("gelu"))) == x.nbytes() + 16 * 5 * 2 * 2 * 2);
  // ‖squash(v)‖ = r²/(1 + r²) (Sabour et al., eq. 1).
  Tensor v = from_vector(std::vector<double>{3, 4}, {1, 2});
  auto y = norm_activation(Variable(v), G::last_dim(), NormPhi::sabour_squash()).data().to_vector<double>();
  CHECK(std::hypot(y[0], y[1]) == doctest::Approx(25.0 / 26.0).epsilon(1e-15));
}

TEST_CASE("vector gates: the bias gradient, per channel for blocks, gradchecked on every grouping") {
  Generator gen(8);
  struct Case {
    Shape shape;
    G g;
  };
  for (const Case& c : {Case{{2, 3, 5, 6}, G::blocks(4)}, Case{{2, 4, 3, 3}, G::channels()}, Case{{4, 3}, G::last_dim()}}) {
    for (bool normalize : {false, true}) {
      for (const NormPhi& phi : {NormPhi::relu(), NormPhi::sigmoid(), NormPhi::softplus(), NormPhi::activation("gelu")}) {
        INFO(c.g.str() << " " << phi.name() << " normalize " << normalize);
        Tensor x = randn(c.shape, kFloat64, &gen) + 0.1;
        Tensor b = randn(vector_bias_shape(c.shape, c.g), kFloat64, &gen) * 0.5;
        auto r = gradcheck(
            [&](const std::vector<Variable>& v) { return biased(v[0], c.g, phi, normalize, v[1]); }, {x, b});
        CHECK_MESSAGE(r.ok, r.message);
      }
    }
  }
  // Blocks: one bias per channel, so channel c's bias moves only channel c's output.
  NormActivation m(G::blocks(2), NormPhi::sigmoid(), false, 3, 0.0, "t", kFloat64);
  REQUIRE(m.named_parameters().size() == 1);
  CHECK(m.named_parameters()[0].first == "bias");
  Tensor x = randn({1, 3, 4, 4}, kFloat64, &gen);
  Tensor before = m(Variable(x)).data();
  m.parameters()[0].data().narrow(0, 1, 1).fill_(2.0);
  Tensor after = m(Variable(x)).data();
  CHECK(allclose(after.narrow(1, 0, 1), before.narrow(1, 0, 1), 0, 0));
  CHECK(allclose(after.narrow(1, 2, 1), before.narrow(1, 2, 1), 0, 0));
  CHECK_FALSE(allclose(after.narrow(1, 1, 1), before.narrow(1, 1, 1), 1e-3, 0));
}

TEST_CASE("vector gates: external gates, GLU and SwiGLU, values and gradients to v, g and b") {
  Generator gen(9);
  auto sig = [](const Variable& t) { return sigmoid(t); };
  struct Case {
    Shape shape;
    G g;
  };
  for (const Case& c : {Case{{2, 3, 5, 6}, G::blocks(4)}, Case{{2, 4, 3, 3}, G::channels()}, Case{{4, 3}, G::last_dim()}}) {
    INFO(c.g.str());
    Tensor x = randn(c.shape, kFloat64, &gen);
    const Shape vs = vector_shape(c.shape, c.g, "t");
    Tensor gt = randn(vs, kFloat64, &gen), b = randn(vector_bias_shape(c.shape, c.g), kFloat64, &gen);
    auto r = gradcheck([&](const std::vector<Variable>& v) { return external_gate(v[0], v[1], c.g, sig, v[2]); },
                       {x, gt, b});
    CHECK_MESSAGE(r.ok, r.message);
    // y_v = σ(g_v + b)·v: compare with scale_vectors of the hand-made scales.
    Tensor bb = c.g.kind == G::Kind::Blocks ? b.reshape({1, b.numel(), 1, 1}) : b;
    Variable s = sigmoid(Variable(gt) + Variable(bb));
    CHECK(allclose(external_gate(Variable(x), Variable(gt), c.g, sig, Variable(b)).data(),
                   scale_vectors(Variable(x), s, c.g).data(), 0, 0));
  }
  // scale_vectors in channels grouping is x·s broadcast over C.
  Tensor x = randn({2, 4, 3, 3}, kFloat64, &gen), s = randn({2, 1, 3, 3}, kFloat64, &gen);
  CHECK(allclose(scale_vectors(Variable(x), Variable(s), G::channels()).data(), x * s, 1e-15, 0));
  // GLU = a·σ(b), SwiGLU = silu(a)·b, split along any dim.
  Tensor z = randn({3, 8, 2}, kFloat64, &gen);
  Tensor a1 = z.narrow(1, 0, 4).contiguous(), b1 = z.narrow(1, 4, 4).contiguous();
  CHECK(allclose(glu(Variable(z), 1).data(), a1 * sigmoid(Variable(b1)).data(), 1e-15, 0));
  CHECK(allclose(swiglu(Variable(z), 1).data(), silu(Variable(a1)).data() * b1, 1e-15, 0));
  CHECK(glu(Variable(z), -1).shape() == Shape{3, 8, 1});
  for (int64_t dim : {1, -1}) {
    auto rg = gradcheck([&](const std::vector<Variable>& v) { return glu(v[0], dim); }, {z});
    CHECK_MESSAGE(rg.ok, rg.message);
    auto rs = gradcheck([&](const std::vector<Variable>& v) { return swiglu(v[0], dim); }, {z});
    CHECK_MESSAGE(rs.ok, rs.message);
  }
  CHECK(allclose(GLU(1)(Variable(z)).data(), glu(Variable(z), 1).data(), 0, 0));
  CHECK(allclose(SwiGLU(1)(Variable(z)).data(), swiglu(Variable(z), 1).data(), 0, 0));
}

TEST_CASE("vector gates: Maxout, GroupSort, MaxMin, FullSort, NormPool, NormMaxPool values and gradchecks") {
  Generator gen(10);
  // Maxout on blocks(2) of a 1×1×2×4 map: the max of each 2×2 block.
  Tensor m = from_vector(std::vector<double>{1, 5, -2, 0, 3, 2, 7, 7}, {1, 1, 2, 4});
  CHECK(maxout(Variable(m), G::blocks(2)).data().to_vector<double>() == std::vector<double>{5, 7});
  CHECK(maxout(Variable(m), G::blocks(2)).shape() == Shape{1, 1, 1, 2});
  // Ties: the gradient goes to the first maximum (7 at offset 6, not 7).
  CHECK(grad_of([](const Variable& v) { return maxout(v, G::blocks(2)); }, m, ones({1, 1, 1, 2}, kFloat64))
            .to_vector<double>() == std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0});
  // GroupSort descending within each vector; ascending on request; a stable order for ties.
  Tensor s = from_vector(std::vector<double>{2, -1, 3, 3, 0, 1}, {2, 3});
  CHECK(group_sort(Variable(s), G::last_dim()).data().to_vector<double>() == std::vector<double>{3, 2, -1, 3, 1, 0});
  CHECK(group_sort(Variable(s), G::last_dim(), false).data().to_vector<double>() ==
        std::vector<double>{-1, 2, 3, 0, 1, 3});
  Tensor upstream = from_vector(std::vector<double>{10, 20, 30, 40, 50, 60}, {2, 3});
  CHECK(grad_of([](const Variable& v) { return group_sort(v, G::last_dim()); }, s, upstream).to_vector<double>() ==
        std::vector<double>{20, 30, 10, 40, 60, 50});
  // Long vectors (d > 64 take std::stable_sort) agree with a plain sort, ties included.
  Tensor longv = randn({2, 100}, kFloat64, &gen);
  longv.narrow(1, 0, 10).fill_(0.25);
  auto lv = longv.to_vector<double>(), ls = group_sort(Variable(longv), G::last_dim()).data().to_vector<double>();
  for (int row = 0; row < 2; ++row) {
    std::vector<double> want(lv.begin() + 100 * row, lv.begin() + 100 * (row + 1));
    std::sort(want.begin(), want.end(), std::greater<double>());
    CHECK(std::vector<double>(ls.begin() + 100 * row, ls.begin() + 100 * (row + 1)) == want);
  }
  // MaxMin: pairs of consecutive features (dim 1) become [max, min].
  Tensor f = from_vector(std::vector<double>{1, 4, 6, -2}, {1, 4});
  CHECK(MaxMin()(Variable(f)).data().to_vector<double>() == std::vector<double>{4, 1, 6, -2});
  Tensor fs = randn({2, 4, 3, 3}, kFloat64, &gen);
  CHECK(allclose(group_sort_features(Variable(fs), 4).data(), group_sort(Variable(fs), G::channels()).data(), 0, 0));
  // NormPool: ‖v‖ per vector.
  Tensor p = from_vector(std::vector<double>{3, 4, 0, 0, 1, 0}, {3, 2});
  CHECK(norm_pool(Variable(p), G::last_dim()).data().to_vector<double>() == std::vector<double>{5, 0, 1});
  CHECK(allclose(grad_of([](const Variable& v) { return norm_pool(v, G::last_dim()); }, p, ones({3, 1}, kFloat64)),
                 from_vector(std::vector<double>{0.6, 0.8, 0, 0, 1, 0}, {3, 2}), 1e-15, 0));
  // NormMaxPool: 2×2 windows of a 1×2×2×4 map keep the pixel with the longest channel vector.
  Tensor q = from_vector(std::vector<double>{1, 0, 0, 2, 0, 0, 1, 0,  //
                                             0, 3, 0, 0, 0, 1, 0, 0},
                         {1, 2, 2, 4});
  CHECK(norm_max_pool(Variable(q), 2).data().to_vector<double>() == std::vector<double>{0, 2, 3, 0});
  for (const G& g : {G::blocks(4), G::channels(), G::last_dim()}) {
    INFO(g.str());
    Tensor x = randn({2, 3, 5, 6}, kFloat64, &gen);  // distinct values: no ties, no kinks
    for (const Fn& op : std::vector<Fn>{[g](const Variable& v) { return maxout(v, g); },
                                        [g](const Variable& v) { return group_sort(v, g); },
                                        [g](const Variable& v) { return norm_pool(v, g); }}) {
      auto r = gradcheck([&](const std::vector<Variable>& v) { return op(v[0]); }, {x});
      CHECK_MESSAGE(r.ok, r.message);
    }
  }
  for (int64_t stride : {2, 1}) {  // overlapping windows add their gradients
    auto r = gradcheck([&](const std::vector<Variable>& v) { return norm_max_pool(v[0], 2, stride); },
                       {randn({2, 3, 5, 6}, kFloat64, &gen)});
    CHECK_MESSAGE(r.ok, r.message);
  }
  auto r = gradcheck([](const std::vector<Variable>& v) { return MaxMin()(v[0]); }, {randn({3, 6}, kFloat64, &gen)});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("vector gates: per-vector dropout keeps 1 − p of the vectors within 4 sigma and scales by 1/(1 − p)") {
  const int64_t n = 1000000;
  Tensor x = ones({n, 2}, kFloat64);
  Generator gen(12);
  const double p = 0.3;
  Variable xv(x, true);
  Variable y = vector_dropout(xv, p, G::last_dim(), true, &gen);
  auto yv = y.data().to_vector<double>();
  double kept = 0, other = 0;
  for (int64_t i = 0; i < n; ++i) {
    kept += yv[2 * i] != 0;
    other += yv[2 * i] != yv[2 * i + 1] || (yv[2 * i] != 0 && std::abs(yv[2 * i] - 1 / (1 - p)) > 1e-15);
  }
  CHECK(other == 0);  // a whole vector is kept or dropped, kept ones scaled by 1/(1 − p)
  CHECK(std::abs(kept / n - (1 - p)) < 4 * std::sqrt(p * (1 - p) / n));
  y.backward(ones({n, 2}, kFloat64));
  CHECK(allclose(xv.grad(), y.data(), 0, 0));  // dx = m/(1 − p)·g
  CHECK(gen.offset() == (uint64_t)n);
  // Same seed, same mask; eval and p = 0 are the identity; p = 1 drops everything.
  Tensor z = randn({2, 3, 8, 8}, kFloat64);
  Generator g1(4), g2(4);
  CHECK(allclose(vector_dropout(Variable(z), 0.5, G::blocks(4), true, &g1).data(),
                 vector_dropout(Variable(z), 0.5, G::blocks(4), true, &g2).data(), 0, 0));
  CHECK(allclose(vector_dropout(Variable(z), 0.5, G::blocks(4), false).data(), z, 0, 0));
  CHECK(allclose(vector_dropout(Variable(z), 0.0, G::blocks(4), true).data(), z, 0, 0));
  CHECK(allclose(vector_dropout(Variable(z), 1.0, G::blocks(4), true).data(), zeros_like(z), 0, 0));
  VectorDropout d(0.5, G::channels());
  d.eval();
  CHECK(allclose(d(Variable(z)).data(), z, 0, 0));
}

TEST_CASE("vector gates: bad groupings, shapes, biases and gates are errors naming the op") {
  Variable x(randn({3, 5}, kFloat64));
  using testing::error_of;
  CHECK(error_of([&] { norm_activation(x, G::blocks(4), NormPhi::relu()); }) ==
        "norm_activation: grouping blocks(4) needs an N,C,H,W input, got shape [3, 5]");
  NormActivationOptions o;
  o.bias = Variable(full({2}, 0.0, kFloat64));
  CHECK(error_of([&] { norm_activation(x, G::last_dim(), NormPhi::relu(), o); }) ==
        "norm_activation: bias for grouping last_dim of shape [3, 5] must have shape [1], got [2]");
  o.bias = Variable(full({1}, 0.0, kFloat32));
  CHECK(error_of([&] { norm_activation(x, G::last_dim(), NormPhi::relu(), o); }) ==
        "norm_activation: bias must have the input's dtype and device (float64 on cpu), got float32 on cpu");
  Variable x4(randn({2, 3, 4, 4}, kFloat64));
  o.bias = Variable(full({1}, 0.0, kFloat64));
  CHECK(error_of([&] { norm_activation(x4, G::blocks(2), NormPhi::relu(), o); }) ==
        "norm_activation: bias for grouping blocks(2) of shape [2, 3, 4, 4] must have shape [3], got [1]");
  CHECK(error_of([&] { NormPhi::activation("vecgelu"); }) ==
        "norm_activation: phi must be an elementwise activation, 'vecgelu' is a vector activation");
  NormPhi sum_phi = NormPhi::function("sum", [](const Variable& t) { return sum(t); });
  CHECK(error_of([&] { norm_activation(x, G::last_dim(), sum_phi); }) ==
        "norm_activation: phi 'sum' must be elementwise: shape [3] gave []");
  auto sig = [](const Variable& t) { return sigmoid(t); };
  CHECK(error_of([&] { external_gate(x, Variable(zeros({3}, kFloat64)), G::last_dim(), sig); }) ==
        "external_gate: the gates for grouping last_dim of shape [3, 5] must have shape [3, 1], got [3]");
  CHECK(error_of([&] { scale_vectors(x4, Variable(zeros({2, 3, 2, 2}, kFloat64)), G::blocks(4)); }) ==
        "scale_vectors: the scales for grouping blocks(4) of shape [2, 3, 4, 4] must have shape [2, 3, 1, 1], got "
        "[2, 3, 2, 2]");
  CHECK(error_of([&] { glu(Variable(randn({2, 3}, kFloat64))); }) ==
        "glu: dim 1 must have an even size to split in halves, got shape [2, 3]");
  CHECK(error_of([&] { swiglu(x, 2); }) == "swiglu: dim 2 is out of range for shape [3, 5]");
  CHECK(error_of([&] { maxout(Variable(randn({4}, kFloat64)), G::channels()); }) ==
        "maxout: grouping channels needs an N,C,... input with C > 0, got shape [4]");
  CHECK(error_of([&] { group_sort(x, G::blocks(0)); }) == "group_sort: grouping blocks(k) needs k >= 1, got 0");
  CHECK(error_of([&] { group_sort_features(x, 2); }) == "group_sort: group size 2 must divide the 5 features of shape [3, 5]");
  CHECK(error_of([&] { norm_pool(Variable(from_vector(std::vector<int64_t>{1}, {1, 1})), G::last_dim()); }) ==
        "norm_pool: expected a float32 or float64 tensor, got int64");
  CHECK(error_of([&] { norm_max_pool(x, 2); }) == "norm_max_pool: needs an N,C,H,W input, got shape [3, 5]");
  CHECK(error_of([&] { norm_max_pool(x4, 5); }) ==
        "norm_max_pool: kernel 5 is larger than the input's H×W in shape [2, 3, 4, 4]");
  CHECK(error_of([&] { vector_dropout(x, 1.5, G::last_dim()); }) == "vector_dropout: p must be in [0, 1], got 1.5");
  CHECK(error_of([&] { vector_dropout(x, 0.5); }) ==
        "vector_dropout: grouping blocks(4) needs an N,C,H,W input, got shape [3, 5]");
}
