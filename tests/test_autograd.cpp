// Autograd tests: a float64 gradcheck for every differentiable op (broadcasting and
// view ops included), the engine's rules, hooks, and graph memory.
#include <doctest/doctest.h>

#include <fstream>
#include <unistd.h>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/random.h"

using namespace tg;
using namespace tg::ops;
using Vars = std::vector<Variable>;

static Tensor rn(Shape s, uint64_t seed = 1) {
  Generator g(seed);
  return randn(s, kFloat64, &g);
}
// Values bounded away from 0 (for log, sqrt, div, pow): |x| in [0.5, 1.5] with a sign.
static Tensor pos(Shape s, uint64_t seed = 2) {
  Generator g(seed);
  return uniform(s, 0.5, 1.5, kFloat64, &g);
}

#define GRADCHECK(f, ...)                                      \
  do {                                                         \
    auto r_ = gradcheck(f, __VA_ARGS__);                       \
    CHECK_MESSAGE(r_.ok, r_.message);                          \
  } while (0)

TEST_CASE("gradcheck: binary elementwise ops with broadcasting") {
  std::vector<Tensor> in = {rn({3, 4}, 1), rn({4}, 2)};
  GRADCHECK([](const Vars& v) { return add(v[0], v[1]); }, in);
  GRADCHECK([](const Vars& v) { return sub(v[0], v[1]); }, in);
  GRADCHECK([](const Vars& v) { return mul(v[0], v[1]); }, in);
  GRADCHECK([](const Vars& v) { return div(v[0], v[1]); }, {rn({3, 4}), pos({3, 1})});
  GRADCHECK([](const Vars& v) { return pow(v[0], v[1]); }, {pos({2, 3}), rn({1, 3})});
  // maximum/minimum: operands differ by construction (no ties, where the gradient is a choice)
  GRADCHECK([](const Vars& v) { return maximum(v[0], v[1]); }, {rn({3, 4}, 5), rn({3, 4}, 6)});
  GRADCHECK([](const Vars& v) { return minimum(v[0], v[1]); }, {rn({3, 4}, 5), rn({4}, 6)});
  GRADCHECK([](const Vars& v) { return where(gt(v[0].data(), zeros({})  .to(kFloat64)), v[0], v[1]); },
            {rn({3, 4}), rn({1, 4})});
}

TEST_CASE("gradcheck: unary and scalar ops") {
  GRADCHECK([](const Vars& v) { return neg(v[0]); }, {rn({5})});
  GRADCHECK([](const Vars& v) { return exp(v[0]); }, {rn({5})});
  GRADCHECK([](const Vars& v) { return log(v[0]); }, {pos({5})});
  GRADCHECK([](const Vars& v) { return sqrt(v[0]); }, {pos({5})});
  // abs and clamp: random normal points are away from the kinks at 0 and at the bounds
  GRADCHECK([](const Vars& v) { return abs(v[0]); }, {rn({7}, 3)});
  GRADCHECK([](const Vars& v) { return clamp(v[0], -0.5, 0.7); }, {rn({7}, 3)});
  GRADCHECK([](const Vars& v) { return square(v[0]); }, {rn({5})});
  GRADCHECK([](const Vars& v) { return pow(v[0], 3.5); }, {pos({5})});
  GRADCHECK([](const Vars& v) { return add(mul(v[0], 3.0), 2.0); }, {rn({5})});
  GRADCHECK([](const Vars& v) { return rsub(div(v[0], 4.0), 1.0); }, {rn({5})});
  GRADCHECK([](const Vars& v) { return 2.0 - v[0] * v[0] / 3.0; }, {rn({5})});
}

TEST_CASE("gradcheck: reductions") {
  GRADCHECK([](const Vars& v) { return sum(v[0]); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return sum(v[0], {1}); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return sum(v[0], {0, 2}, true); }, {rn({2, 3, 4})});
  GRADCHECK([](const Vars& v) { return mean(v[0], {-1}); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return mean(v[0]); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return var(v[0], {1}); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return var(v[0], {}, 0); }, {rn({3, 4})});
  // max: random values have no ties
  GRADCHECK([](const Vars& v) { return max(v[0], 1); }, {rn({3, 5})});
  GRADCHECK([](const Vars& v) { return max(v[0], 0, true); }, {rn({3, 5})});
}

TEST_CASE("gradcheck: matmul in every layout") {
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({3, 4}, 1), rn({4, 2}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({4}, 1), rn({4}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({3, 4}, 1), rn({4}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({4}, 1), rn({4, 3}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({2, 3, 4}, 1), rn({4, 5}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(v[0], v[1]); }, {rn({2, 1, 3, 4}, 1), rn({3, 4, 2}, 2)});
  GRADCHECK([](const Vars& v) { return matmul(transpose(v[0], 0, 1), v[1]); }, {rn({4, 3}, 1), rn({4, 2}, 2)});
}

TEST_CASE("gradcheck: views, joining and gather") {
  GRADCHECK([](const Vars& v) { return reshape(v[0], {6, 2}); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return view(v[0], {2, 6}); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return permute(v[0], {2, 0, 1}); }, {rn({2, 3, 4})});
  GRADCHECK([](const Vars& v) { return transpose(v[0], 0, 2); }, {rn({2, 3, 4})});
  GRADCHECK([](const Vars& v) { return narrow(v[0], 1, 1, 2); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return slice(v[0], 1, 0, 4, 2); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return select(v[0], 0, 2); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return squeeze(unsqueeze(v[0], 1), 1); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return expand(v[0], {2, 3, 4}); }, {rn({3, 1})});
  GRADCHECK([](const Vars& v) { return flatten(v[0], 1); }, {rn({2, 3, 4})});
  GRADCHECK([](const Vars& v) { return contiguous(transpose(v[0], 0, 1)); }, {rn({3, 4})});
  GRADCHECK([](const Vars& v) { return concat({v[0], v[1]}, 1); }, {rn({2, 3}), rn({2, 2})});
  GRADCHECK([](const Vars& v) { return stack({v[0], v[1]}, 0); }, {rn({2, 3}), rn({2, 3})});
  Tensor idx = from_vector(std::vector<int64_t>{2, 0, 1, 1, 0, 2}, {3, 2});
  GRADCHECK([idx](const Vars& v) { return gather(v[0], 1, idx); }, {rn({3, 3})});
  // a variable used twice accumulates both paths
  GRADCHECK([](const Vars& v) { return mul(v[0], exp(v[0])); }, {rn({4})});
}

TEST_CASE("gradcheck itself catches wrong and non-accumulating backwards") {
  // A deliberately wrong backward (gradient 2g for the identity) must fail, naming input and element.
  auto wrong = [](const Vars& v) {
    return record("wrong", v[0].data().clone(), {v[0]},
                  [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{mul(g, 2.0)}; });
  };
  auto r = gradcheck(wrong, {rn({2, 2})});
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("gradcheck: input 0 (shape [2, 2]), element [0, 0]: analytic") == 0);
  // A backward that leaves an element unwritten (fresh memory) fails through the NaN poison.
  auto partial = [](const Vars& v) {
    return record("partial", v[0].data().clone(), {v[0]}, [](const Tensor& g, const std::vector<bool>&) {
      Tensor out = empty(g.shape(), g.dtype());
      out.narrow(0, 0, 1).copy_(g.narrow(0, 0, 1));
      return std::vector<Tensor>{out};
    });
  };
  auto r2 = gradcheck(partial, {rn({2})});
  CHECK_FALSE(r2.ok);
  CHECK(r2.message.find("element [1]") != std::string::npos);
  CHECK_THROWS_WITH_AS(gradcheck(wrong, {rn({2}).to(kFloat32)}), "gradcheck: input 0 is float32; gradcheck needs float64 inputs",
                       Error);
}

TEST_CASE("autograd: engine rules") {
  Variable x(tensor({1, 2, 3}, kFloat64), true);
  Variable y = sum(mul(x, x));
  y.backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 4, 6});
  // backward accumulates
  sum(mul(x, x)).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4, 8, 12});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  // non-scalar backward needs a gradient
  Variable z = mul(x, 2.0);
  CHECK_THROWS_WITH_AS(z.backward(),
                       "backward: gradient can be implicitly created only for a one-element output, got shape [3]; pass a gradient",
                       Error);
  z.backward(tensor({1, 0, -1}, kFloat64));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 0, -2});
  CHECK_THROWS_WITH_AS(z.backward(tensor({1, 0}, kFloat64)), "backward: gradient shape [2] does not match output shape [3]",
                       Error);
  // no_grad records nothing; detach cuts history
  {
    NoGrad ng;
    Variable w = mul(x, x);
    CHECK_FALSE(w.requires_grad());
    CHECK(w.grad_fn() == nullptr);
  }
  Variable d = mul(x, 3.0).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  Variable c(tensor({1.0}));
  CHECK_THROWS_WITH_AS(sum(c).backward(), "backward: the variable does not require a gradient and has no grad_fn", Error);
  CHECK_THROWS_WITH_AS(Variable(zeros({2}, kInt64), true), "requires_grad: only float tensors can require gradients, got int64",
                       Error);
}

TEST_CASE("autograd: the tape runs newest-first over a diamond") {
  // y = a·b + a·c with b = 2a, c = a²: dy/da = 4a + 3a² (requires correct ordering and accumulation)
  Variable a(tensor({0.5, -1.5}, kFloat64), true);
  Variable b = mul(a, 2.0), c = mul(a, a);
  Variable y = sum(add(mul(a, b), mul(a, c)));
  y.backward();
  CHECK(a.grad().to_vector<double>()[0] == doctest::Approx(4 * 0.5 + 3 * 0.25));
  CHECK(a.grad().to_vector<double>()[1] == doctest::Approx(4 * -1.5 + 3 * 2.25));
}

TEST_CASE("autograd: hooks observe gradients of leaves and intermediates") {
  Variable x(tensor({1, 2}, kFloat64), true);
  Variable h = mul(x, 3.0);
  std::vector<double> seen_h, seen_x;
  h.register_hook([&](const Tensor& g) { seen_h = g.to_vector<double>(); });
  x.register_hook([&](const Tensor& g) { seen_x = g.to_vector<double>(); });
  sum(mul(h, h)).backward();
  CHECK(seen_h == std::vector<double>{6, 12});   // d(h²)/dh = 2h
  CHECK(seen_x == std::vector<double>{18, 36});  // ·3
}

static long rss_kb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

TEST_CASE("autograd: graphs are freed with their outputs, with or without backward") {
  Variable w(randn({64, 64}), true), b(zeros({64}), true);
  Tensor xin = randn({16, 64});
  auto step = [&](bool do_backward) {
    Variable h = exp(mul(add(matmul(Variable(xin), w), b), 0.01));
    Variable loss = mean(mul(h, h));
    if (do_backward) {
      loss.backward();
      w.data().add_(w.grad(), -1e-4);
      w.zero_grad();
      b.zero_grad();
    }
  };
  for (int i = 0; i < 500; ++i) step(true);  // warm-up: allocator pools reach steady state
  const long before = rss_kb();
  for (int i = 0; i < 10000; ++i) step(false);
  for (int i = 0; i < 10000; ++i) step(true);
  const long growth = rss_kb() - before;
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine, so RSS grows by design there.
  MESSAGE("resident memory grew by ", growth, " KB (not checked under AddressSanitizer)");
#else
  // One retained graph per step would be ≥ 10 KB × 20,000 steps = 200 MB.
  CHECK_MESSAGE(growth < 4096, "resident memory grew by ", growth, " KB");
#endif
  std::weak_ptr<Node> node;
  {
    Variable t = mul(w, 2.0);
    node = t.grad_fn();
    CHECK_FALSE(node.expired());
  }
  CHECK(node.expired());
}
