// Backward runs a leaf's gradient accumulation (and its hooks) right after the leaf's
// oldest consumer, not at the end of the pass: DistributedDataParallel starts averaging
// a parameter's bucket from these hooks while backward continues with older layers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <cmath>

#include "activations/basic.h"
#include "autograd/functions.h"

using namespace tg;
using namespace tg::ops;

TEST_CASE("backward: a leaf's hook fires as soon as its gradient is final") {
  // h = x·w1 (older), out = sum(tanh(h)·w2 + w2) (w2 used twice, by newer ops).
  Variable x(tensor({0.5, -1.0}), false);
  Variable w1(tensor({0.3, 0.7}), true), w2(tensor({1.5, -0.4}), true);
  std::vector<std::string> events;
  Variable h = mul(x, w1);
  h.register_hook([&](const Tensor&) { events.push_back("h"); });
  w1.register_hook([&](const Tensor&) { events.push_back("w1"); });
  w2.register_hook([&](const Tensor& g) {
    events.push_back("w2");
    // both uses of w2 have arrived: tanh(h) + 1
    auto v = g.to_vector<double>();
    CHECK(v[0] == doctest::Approx(std::tanh(0.15) + 1));
    CHECK(v[1] == doctest::Approx(std::tanh(-0.7) + 1));
  });
  Variable out = sum(add(mul(tanh(h), w2), w2));
  out.backward();
  CHECK(events == std::vector<std::string>{"w2", "h", "w1"});
  CHECK(w2.grad().to_vector<double>()[0] == doctest::Approx(std::tanh(0.15) + 1));
}
