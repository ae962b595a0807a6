// Module, Linear, losses, init and optimizer tests (hand-computed values).
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "activations/basic.h"
#include "autograd/gradcheck.h"
#include "core/optim_kernels.h"
#include "core/random.h"
#include "layers/conv.h"
#include "layers/flatten.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/pool.h"
#include "optim/adam.h"
#include "optim/lr_scheduler.h"
#include "optim/sgd.h"

using namespace tg;
using namespace tg::ops;
using Vars = std::vector<Variable>;

#define GRADCHECK(f, ...)                \
  do {                                   \
    auto r_ = gradcheck(f, __VA_ARGS__); \
    CHECK_MESSAGE(r_.ok, r_.message);    \
  } while (0)

static Tensor rn(Shape s, uint64_t seed = 1) {
  Generator g(seed);
  return randn(s, kFloat64, &g);
}

namespace {
struct Block : Module {
  std::shared_ptr<Sequential> features;
  std::shared_ptr<Linear> head;
  Block() {
    features = register_module(
        "features", std::make_shared<Sequential>(Sequential{Linear(4, 8), ReLU(), Linear(8, 8, false)}));
    head = register_module("head", std::make_shared<Linear>(8, 2));
  }
  Variable forward(const Variable& x) override { return head->forward(features->forward(x)); }
  std::string name() const override { return "Block"; }
};
}  // namespace

TEST_CASE("module: PyTorch-style names, state dict round trip, train/eval") {
  Block m;
  std::vector<std::string> names;
  for (auto& [n, t] : m.state_dict()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"features.0.weight", "features.0.bias", "features.2.weight", "head.weight",
                                          "head.bias"});
  CHECK(m.parameters().size() == 5);
  CHECK(m.features->size() == 3);
  Block m2;
  m2.load_state_dict(m.state_dict());
  Tensor x = randn({3, 4});
  CHECK(allclose(m(Variable(x)).data(), m2(Variable(x)).data(), 0, 0));
  m.eval();
  CHECK_FALSE(m.features->is_training());
  m.train();
  CHECK((*m.features)[0]->is_training());
  NamedTensors sd = m.state_dict();
  sd.pop_back();
  CHECK_THROWS_WITH_AS(m2.load_state_dict(sd), "load_state_dict: missing tensor 'head.bias' (shape [2])", Error);
  sd = m.state_dict();
  sd[0].second = zeros({8, 5});
  CHECK_THROWS_WITH_AS(m2.load_state_dict(sd),
                       "load_state_dict: tensor 'features.0.weight' has shape [8, 5], the module expects [8, 4]", Error);
  sd = m.state_dict();
  sd.emplace_back("extra", zeros({1}));
  CHECK_THROWS_WITH_AS(m2.load_state_dict(sd), "load_state_dict: unexpected tensor 'extra' not in the module", Error);
  m.to(kFloat64);
  CHECK(m.head->weight.dtype() == kFloat64);
  CHECK(m.parameters()[3].dtype() == kFloat64);
}

TEST_CASE("module: std::cout << model prints the tree with options and parameter counts") {
  manual_seed(0);
  Block b;
  std::ostringstream os;
  os << b;
  CHECK(os.str() ==
        "Block(  # 122 parameters\n"
        "  (features): Sequential(  # 104 parameters\n"
        "    (0): Linear(in_features=4, out_features=8, bias=True)  # 40 parameters\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=8, out_features=8, bias=False)  # 64 parameters\n"
        "  )\n"
        "  (head): Linear(in_features=8, out_features=2, bias=True)  # 18 parameters\n"
        ")");
  Sequential cnn{Conv2d(1, 32, 3), ReLU(), MaxPool2d(2), Conv2d(32, 8, 3, 2, 1, 1, 4, false), Flatten()};
  std::ostringstream oc;
  oc << cnn;
  CHECK(oc.str() ==
        "Sequential(  # 896 parameters\n"
        "  (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))  # 320 parameters\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))\n"
        "  (3): Conv2d(32, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=4, bias=False)  # 576 parameters\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        ")");
  CHECK(cnn.num_parameters() == 896);
}

TEST_CASE("module: Sequential takes module values and shared modules, handles stay valid") {
  manual_seed(0);
  Linear first(2, 3);
  const Variable w = first.weight;  // a handle: shares the parameter
  auto shared = std::make_shared<Linear>(3, 1, false);
  Sequential s{std::move(first), Tanh()};
  s.push_back(shared).add(ReLU());
  REQUIRE(s.size() == 4);
  const auto named = s.named_parameters();
  REQUIRE(named.size() == 3);
  CHECK(named[0].first == "0.weight");
  CHECK(named[0].second.impl() == w.impl());
  CHECK(named[2].first == "2.weight");
  CHECK(named[2].second.impl() == shared->weight.impl());
  CHECK(s[2] == shared);
  s.to(kFloat64);  // converting in place keeps every handle on the new data
  CHECK(w.dtype() == kFloat64);
  CHECK(shared->weight.dtype() == kFloat64);
  CHECK(s(ones({5, 2}, kFloat64)).shape() == Shape{5, 1});
}

TEST_CASE("linear: values, init bounds, gradcheck, errors") {
  Linear l(3, 2, true, kFloat64);
  l.weight.data().copy_(from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}));
  l.bias.data().copy_(tensor({0.5, -0.5}, kFloat64));
  Variable y = l(Variable(from_vector(std::vector<double>{1, 0, -1}, {1, 3})));
  CHECK(y.data().to_vector<double>() == std::vector<double>{-1.5, -2.5});
  Linear big(100, 50);
  const double bound = 1 / std::sqrt(100.0);
  CHECK(max(abs(big.weight.data())).item() <= bound);
  CHECK(max(abs(big.weight.data())).item() > 0.9 * bound);
  GRADCHECK([](const Vars& v) { return linear(v[0], v[1], v[2]); }, {rn({4, 3}), rn({2, 3}, 2), rn({2}, 3)});
  GRADCHECK([](const Vars& v) { return linear(v[0], v[1]); }, {rn({2, 4, 3}), rn({5, 3}, 2)});
  CHECK_THROWS_WITH_AS(l(Variable(zeros({2, 4}, kFloat64))),
                       "linear: input of shape [2, 4] does not match weight of shape [2, 3] (expected [..., 3])", Error);
}

TEST_CASE("activations: relu, tanh, sigmoid, gelu values and gradcheck") {
  Variable x(tensor({-2, -0.5, 0.5, 2}, kFloat64));
  CHECK(relu(x).data().to_vector<double>() == std::vector<double>{0, 0, 0.5, 2});
  CHECK(tanh(x).data().to_vector<double>()[3] == doctest::Approx(std::tanh(2.0)));
  CHECK(sigmoid(x).data().to_vector<double>()[0] == doctest::Approx(1 / (1 + std::exp(2.0))));
  CHECK(gelu(x).data().to_vector<double>()[3] == doctest::Approx(2 * 0.9772498680518208));
  // random normal points: none at relu's kink
  GRADCHECK([](const Vars& v) { return relu(v[0]); }, {rn({9})});
  GRADCHECK([](const Vars& v) { return tanh(v[0]); }, {rn({9})});
  GRADCHECK([](const Vars& v) { return sigmoid(v[0]); }, {rn({9})});
  GRADCHECK([](const Vars& v) { return gelu(v[0]); }, {rn({9})});
}

TEST_CASE("losses: values against hand computation, gradcheck, errors") {
  Variable a(tensor({1, 2, 3}, kFloat64)), b(tensor({1, 0, 0}, kFloat64));
  CHECK(mse_loss(a, b).item() == doctest::Approx((0 + 4 + 9) / 3.0));
  CHECK(mse_loss(a, b, Reduction::Sum).item() == doctest::Approx(13));
  // cross-entropy: logits [[1,2,3]], target 2 → log(e+e²+e³) − 3
  Variable logits(from_vector(std::vector<double>{1, 2, 3, 0, 0, 0}, {2, 3}));
  Tensor t = from_vector(std::vector<int64_t>{2, 1}, {2});
  const double l0 = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3, l1 = std::log(3.0);
  CHECK(cross_entropy(logits, t).item() == doctest::Approx((l0 + l1) / 2));
  CHECK(cross_entropy(logits, t, Reduction::None).data().to_vector<double>()[1] == doctest::Approx(l1));
  // stable for huge logits
  Variable huge(from_vector(std::vector<double>{1000, 0}, {1, 2}));
  CHECK(cross_entropy(huge, from_vector(std::vector<int64_t>{1}, {1})).item() == doctest::Approx(1000));
  Variable z(tensor({-800, 0, 3}, kFloat64)), y(tensor({1, 0.5, 0}, kFloat64));
  auto bce = binary_cross_entropy_with_logits(z, y, Reduction::None).data().to_vector<double>();
  CHECK(bce[0] == doctest::Approx(800));
  CHECK(bce[1] == doctest::Approx(std::log(2.0)));
  CHECK(bce[2] == doctest::Approx(3 + std::log1p(std::exp(-3.0))));
  GRADCHECK([](const Vars& v) { return mse_loss(v[0], v[1]); }, {rn({3, 4}), rn({3, 4}, 2)});
  GRADCHECK([t](const Vars& v) { return cross_entropy(v[0], t); }, {rn({2, 3})});
  GRADCHECK([t](const Vars& v) { return cross_entropy(v[0], t, Reduction::Sum); }, {rn({2, 3})});
  GRADCHECK([](const Vars& v) { return binary_cross_entropy_with_logits(v[0], v[1]); }, {rn({5}), rn({5}, 3)});
  CHECK_THROWS_WITH_AS(cross_entropy(logits, from_vector(std::vector<int64_t>{3, 0}, {2})),
                       "cross_entropy: target 3 out of range for 3 classes", Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, tensor({1, 0})),
                       "cross_entropy: targets must be int64 class indices, got float32", Error);
  CHECK_THROWS_WITH_AS(mse_loss(a, Variable(zeros({2}, kFloat64))), "mse_loss: shapes [3] and [2] cannot be broadcast together",
                       Error);
}

TEST_CASE("init: fans and standard deviations") {
  Tensor w = empty({64, 32, 3, 3});
  int64_t fi, fo;
  init::fans(w, fi, fo);
  CHECK(fi == 288);
  CHECK(fo == 576);
  Generator g(7);
  auto stdev = [](const Tensor& t) { return std::sqrt(var(t.to(kFloat64)).item()); };
  init::kaiming_normal_(w, std::sqrt(2.0), init::FanMode::FanIn, &g);
  CHECK(stdev(w) == doctest::Approx(std::sqrt(2.0 / 288)).epsilon(0.03));
  init::kaiming_uniform_(w, 1.0, init::FanMode::FanOut, &g);
  CHECK(max(abs(w)).item() <= std::sqrt(3.0 / 576) + 1e-7);
  CHECK(stdev(w) == doctest::Approx(std::sqrt(1.0 / 576)).epsilon(0.03));
  init::xavier_normal_(w, 1.0, &g);
  CHECK(stdev(w) == doctest::Approx(std::sqrt(2.0 / (288 + 576))).epsilon(0.03));
  init::xavier_uniform_(w, 1.0, &g);
  CHECK(max(abs(w)).item() <= std::sqrt(6.0 / (288 + 576)) + 1e-7);
  init::lecun_normal_(w, &g);
  CHECK(stdev(w) == doctest::Approx(std::sqrt(1.0 / 288)).epsilon(0.03));
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3));
  CHECK_THROWS_WITH_AS(init::fans(empty({3}), fi, fo),
                       "init: fan in and fan out need a tensor with at least 2 dims, got shape [3]", Error);
}

// One parameter p = [1, -2] with gradient g = [0.5, 0.25] at every step.
static Variable param() { return Variable(tensor({1, -2}, kFloat64), true); }
static void set_grad(Variable& p) { p.set_grad(tensor({0.5, 0.25}, kFloat64)); }

TEST_CASE("optim: SGD, momentum, Nesterov, weight decay by hand") {
  Variable p = param();
  SGD plain({p}, {.lr = 0.1});
  set_grad(p);
  plain.step();
  CHECK(p.data().to_vector<double>() == std::vector<double>{1 - 0.05, -2 - 0.025});

  Variable q = param();
  SGD mom({q}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  // step 1: g = [0.5+0.1, 0.25−0.2] = [0.6, 0.05]; buf = g; p −= 0.1·buf
  set_grad(q);
  mom.step();
  auto v = q.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(0.94));
  CHECK(v[1] == doctest::Approx(-2.005));
  // step 2: g = [0.5+0.094, 0.25−0.2005] = [0.594, 0.0495]; buf = 0.9·[0.6,0.05] + g
  set_grad(q);
  mom.step();
  v = q.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(0.94 - 0.1 * (0.54 + 0.594)));
  CHECK(v[1] == doctest::Approx(-2.005 - 0.1 * (0.045 + 0.0495)));

  Variable r = param();
  SGD nest({r}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  set_grad(r);
  nest.step();  // buf = g; d = g + 0.9·g = 1.9 g
  v = r.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(1 - 0.1 * 1.9 * 0.5));
  CHECK(v[1] == doctest::Approx(-2 - 0.1 * 1.9 * 0.25));
  CHECK_THROWS_WITH_AS(SGD({param()}, {.lr = 0.1, .nesterov = true}), "SGD: Nesterov momentum requires momentum > 0 and zero dampening",
                       Error);
}

TEST_CASE("optim: an SGD momentum buffer starts as the gradient of the parameter's first update") {
  // torch's "buffer is None": q gets no gradient in step 1, so step 2 sets its buffer to g,
  // undamped, while p's buffer is damped.
  Variable p = param(), q = param();
  SGD sgd({p, q}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  set_grad(p);
  sgd.step();
  set_grad(p);
  set_grad(q);
  sgd.step();
  CHECK(q.data().to_vector<double>() == std::vector<double>{1 - 0.1 * 0.5, -2 - 0.1 * 0.25});
  const double buf0 = 0.9 * 0.5 + 0.5 * 0.5;  // p: buf = g, then 0.9·buf + (1 − 0.5)·g
  CHECK(p.data().to_vector<double>()[0] == doctest::Approx(1 - 0.1 * 0.5 - 0.1 * buf0));
}

TEST_CASE("optim: fused updates check their operands") {
  Tensor p = zeros({2}, kFloat64), g = zeros({2}, kFloat64);
  CHECK_THROWS_WITH_AS(adam_update_(p, g, zeros({3}, kFloat64), g, 0.1, 0.9, 0.999, 1e-8, 0, false, 1),
                       "adam_update_: gradient or state shape [3] differs from parameter shape [2]", Error);
  CHECK_THROWS_WITH_AS(sgd_update_(p, zeros({2}), g, 0.1, 0, 0, 0, false, true),
                       "sgd_update_: gradient or state dtype float32 differs from parameter dtype float64", Error);
  CHECK_THROWS_WITH_AS(sgd_update_(zeros({2}, kInt64), g, g, 0.1, 0, 0, 0, false, true),
                       "sgd_update_: expected a float32 or float64 parameter, got int64", Error);
  CHECK_THROWS_WITH_AS(adam_update_(p, g, g, g, 0.1, 0.9, 0.999, 1e-8, 0, false, 0),
                       "adam_update_: step must be >= 1, got 0", Error);
  CHECK_THROWS_WITH_AS(sgd_update_(p, zeros({2, 2}, kFloat64).t().select(0, 0), g, 0.1, 0, 0, 0, false, true),
                       "sgd_update_: gradient and optimizer state must be contiguous", Error);
}

TEST_CASE("optim: Adam and AdamW by hand") {
  Variable p = param();
  Adam adam({p}, {.lr = 0.1});
  set_grad(p);
  adam.step();  // first step: m̂ = g, v̂ = g², update = lr·g/(|g| + eps) ≈ lr·sign(g)
  auto v = p.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(1 - 0.1 * 0.5 / (0.5 + 1e-8)));
  CHECK(v[1] == doctest::Approx(-2 - 0.1 * 0.25 / (0.25 + 1e-8)));
  set_grad(p);
  adam.step();  // constant gradient: m̂ = g, v̂ = g² again
  v = p.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(1 - 0.2).epsilon(1e-7));

  Variable q = param();
  AdamW adamw({q}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(q);
  adamw.step();  // p·(1 − 0.05) − 0.1·sign(g)
  v = q.data().to_vector<double>();
  CHECK(v[0] == doctest::Approx(0.95 - 0.1).epsilon(1e-7));
  CHECK(v[1] == doctest::Approx(-1.9 - 0.1).epsilon(1e-7));

  Variable r = param();
  Adam l2({r}, {.lr = 0.1, .weight_decay = 0.5});  // L2: g ← g + 0.5·p = [1.0, −0.75]
  set_grad(r);
  l2.step();
  v = r.data().to_vector<double>();
  CHECK(v[1] == doctest::Approx(-2 + 0.1).epsilon(1e-7));

  // state dict round trip resumes identically
  Variable s1 = param(), s2 = param();
  Adam a1({s1}, {.lr = 0.05});
  set_grad(s1);
  a1.step();
  Adam a2({s2}, {.lr = 0.05});
  s2.data().copy_(s1.data());
  a2.load_state_dict(a1.state_dict());
  set_grad(s1);
  set_grad(s2);
  a1.step();
  a2.step();
  CHECK(s1.data().to_vector<double>() == s2.data().to_vector<double>());
}

TEST_CASE("optim: gradient clipping by global norm") {
  Variable a(tensor({3, 0}, kFloat64), true), b(tensor({4}, kFloat64), true);
  a.set_grad(tensor({3, 0}, kFloat64));
  b.set_grad(tensor({4}, kFloat64));
  const double norm = clip_grad_norm_({a, b}, 1.0);
  CHECK(norm == doctest::Approx(5));
  CHECK(a.grad().to_vector<double>()[0] == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(b.grad().to_vector<double>()[0] == doctest::Approx(0.8).epsilon(1e-5));
  CHECK(clip_grad_norm_({a, b}, 10.0) == doctest::Approx(1).epsilon(1e-5));
  CHECK(b.grad().to_vector<double>()[0] == doctest::Approx(0.8).epsilon(1e-5));
}

TEST_CASE("training: an MLP fits a small regression problem") {
  manual_seed(3);
  Sequential net({std::make_shared<Linear>(2, 16), std::make_shared<Tanh>(), std::make_shared<Linear>(16, 1)});
  Tensor x = randn({64, 2});
  Tensor y = sum(mul(x, x), {1}, true);
  Adam opt(net.parameters(), {.lr = 0.02});
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    Variable loss = mse_loss(net(Variable(x)), Variable(y));
    loss.backward();
    opt.step();
    (i == 0 ? first : last) = loss.item();
  }
  CHECK(last < 0.05 * first);
}

TEST_CASE("optim: StepLR decays the rate per epoch and can be set to an epoch") {
  Variable p = param();
  SGD opt({p}, {.lr = 0.8});
  StepLR sched(opt, 2, 0.5);
  sched.step();
  CHECK(opt.lr() == 0.8);
  sched.step();
  CHECK(opt.lr() == 0.4);
  sched.set_epoch(5);
  CHECK(opt.lr() == 0.2);
  CHECK_THROWS_WITH_AS(StepLR(opt, 0, 0.5), "StepLR: step_size must be positive, got 0", Error);
}
