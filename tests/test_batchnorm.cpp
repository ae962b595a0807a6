#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "core/random.h"
#include "layers/batchnorm.h"

using namespace tg;
using namespace tg::ops;

TEST_CASE("BatchNorm2d: a training step by hand, then evaluation with the running statistics") {
  // One channel holding {1, 2, 3, 6}: mean 3, biased variance 14/4, unbiased 14/3.
  BatchNorm2d bn(1, 1e-5, 0.1, kFloat64);
  bn.weight.data().fill_(2.0);
  bn.bias.data().fill_(0.5);
  Tensor x = from_vector(std::vector<double>{1, 2, 3, 6}, {2, 1, 1, 2});
  Variable y = bn(Variable(x));
  const double invstd = 1 / std::sqrt(3.5 + 1e-5);
  std::vector<double> want;
  for (double v : {1.0, 2.0, 3.0, 6.0}) want.push_back((v - 3) * invstd * 2 + 0.5);
  CHECK(allclose(y.data(), from_vector(want, {2, 1, 1, 2}), 1e-12, 1e-12));
  CHECK(bn.running_mean.item() == doctest::Approx(0.3).epsilon(1e-12));
  CHECK(bn.running_var.item() == doctest::Approx(0.9 + 0.1 * 14.0 / 3.0).epsilon(1e-12));
  CHECK(bn.num_batches_tracked.item() == 1);
  bn.eval();
  Variable ye = bn(Variable(x));
  const double rstd = 1 / std::sqrt(0.9 + 0.1 * 14.0 / 3.0 + 1e-5);
  want.clear();
  for (double v : {1.0, 2.0, 3.0, 6.0}) want.push_back((v - 0.3) * rstd * 2 + 0.5);
  CHECK(allclose(ye.data(), from_vector(want, {2, 1, 1, 2}), 1e-12, 1e-12));
  CHECK(bn.running_mean.item() == doctest::Approx(0.3).epsilon(1e-12));  // evaluation leaves them alone
  CHECK(bn.num_batches_tracked.item() == 1);
}

TEST_CASE("BatchNorm2d: training output is normalized per channel, running stats after two steps") {
  Generator gen(9);
  BatchNorm2d bn(3);
  Tensor x1 = add(mul(randn({4, 3, 5, 5}, kFloat32, &gen), 3.0), 2.0), x2 = randn({4, 3, 5, 5}, kFloat32, &gen);
  Tensor y = bn(Variable(x1)).data();
  CHECK(allclose(mean(y, {0, 2, 3}), zeros({3}), 0, 1e-5));
  CHECK(allclose(var(y, {0, 2, 3}, 0), ones({3}), 0, 1e-4));
  bn(Variable(x2));
  Tensor rm = add(mul(mean(x1, {0, 2, 3}), 0.9 * 0.1), mul(mean(x2, {0, 2, 3}), 0.1));
  Tensor rv = add(add(full({3}, 0.81), mul(var(x1, {0, 2, 3}), 0.9 * 0.1)), mul(var(x2, {0, 2, 3}), 0.1));
  CHECK(allclose(bn.running_mean, rm, 1e-5, 1e-6));
  CHECK(allclose(bn.running_var, rv, 1e-5, 1e-6));
  CHECK(bn.num_batches_tracked.item() == 2);
  auto sd = bn.state_dict();
  std::vector<std::string> names;
  for (auto& [n, t] : sd) names.push_back(n);
  CHECK(names == std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
}

TEST_CASE("batch_norm: float64 gradcheck in training and evaluation") {
  Generator gen(4);
  Tensor rm = randn({3}, kFloat64, &gen), rv = add(rand({3}, kFloat64, &gen), 0.5);
  for (bool training : {true, false}) {
    CAPTURE(training);
    auto f = [&](const std::vector<Variable>& v) {
      // Fresh copies: training updates the running statistics in place.
      return batch_norm(v[0], rm.clone(), rv.clone(), v[1], v[2], training, 0.1, 1e-5);
    };
    auto r = gradcheck(f, {randn({3, 3, 4, 2}, kFloat64, &gen), randn({3}, kFloat64, &gen), randn({3}, kFloat64, &gen)});
    CHECK_MESSAGE(r.ok, r.message);
  }
  // Rank 2 input ([N, C]) and no affine parameters.
  auto r = gradcheck([](const std::vector<Variable>& v) { return batch_norm(v[0], Tensor(), Tensor(), Variable(), Variable(), true); },
                     {randn({5, 2}, kFloat64, &gen)});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("batch_norm: bad inputs") {
  BatchNorm2d bn(3);
  CHECK_THROWS_WITH_AS(bn(Variable(zeros({2, 4, 3, 3}))), "BatchNorm2d: expected a 4-D input [N, 3, H, W], got shape [2, 4, 3, 3]",
                       Error);
  CHECK_THROWS_WITH_AS(bn(Variable(zeros({1, 3, 1, 1}))),
                       "batch_norm: expected more than 1 value per channel when training, got input of shape [1, 3, 1, 1]",
                       Error);
  CHECK(bn.num_batches_tracked.item() == 0);
  CHECK_THROWS_WITH_AS(batch_norm(Variable(zeros({2, 3})), zeros({4}), ones({4})),
                       "batch_norm: running statistic of shape [4] and dtype float32 does not match 3 channels of input "
                       "[2, 3] (float32)",
                       Error);
  CHECK_THROWS_WITH_AS(batch_norm(Variable(zeros({2, 3})), Tensor(), Tensor()),
                       "batch_norm: evaluation mode needs running_mean and running_var", Error);
}
