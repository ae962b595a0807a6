#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "core/random.h"
#include "layers/dropout.h"

using namespace tg;

TEST_CASE("dropout: keep frequency within 4 sigma, inverted scaling, same seed same mask") {
  const int64_t n = 1000000;
  const double p = 0.3;
  Generator gen(21);
  Tensor y = dropout(Variable(ones({n})), p, true, &gen).data();
  auto v = y.to_vector<float>();
  int64_t kept = 0, other = 0;
  for (float e : v) {
    if (e == 0.0f) continue;
    if (std::abs(e - (float)(1 / (1 - p))) < 1e-6f) ++kept;
    else ++other;
  }
  CHECK(other == 0);
  const double sigma = std::sqrt(n * p * (1 - p));
  CHECK(std::abs(kept - n * (1 - p)) < 4 * sigma);
  Generator again(21);
  CHECK(dropout(Variable(ones({n})), p, true, &again).data().to_vector<float>() == v);
  // The generator moved on: the next mask differs.
  CHECK(dropout(Variable(ones({n})), p, true, &gen).data().to_vector<float>() != v);
}

TEST_CASE("dropout: evaluation and p = 0 are the identity, p = 1 gives zeros, gradient is the scaled mask") {
  Tensor x = randn({4, 5}, kFloat64);
  Dropout d(0.5);
  d.eval();
  CHECK(d(Variable(x)).data().to_vector<double>() == x.to_vector<double>());
  CHECK(dropout(Variable(x), 0.0).data().to_vector<double>() == x.to_vector<double>());
  CHECK(dropout(Variable(x), 1.0).data().to_vector<double>() == std::vector<double>(20, 0.0));
  Generator gen(2);
  Variable xv(ones({1000}, kFloat64), true);
  Variable y = dropout(xv, 0.25, true, &gen);
  y.backward(ones({1000}, kFloat64));
  CHECK(xv.grad().to_vector<double>() == y.data().to_vector<double>());  // x = 1: y is the scaled mask
  // The mask does not depend on x; each evaluation draws it from a fresh generator.
  auto r = gradcheck([](const std::vector<Variable>& v) {
    Generator g(5);
    return dropout(v[0], 0.4, true, &g);
  }, {randn({3, 7}, kFloat64)});
  CHECK_MESSAGE(r.ok, r.message);
  CHECK_THROWS_WITH_AS(Dropout(1.5), "dropout: probability p must be in [0, 1], got 1.5", Error);
}
