#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/gradcheck.h"
#include "core/random.h"
#include "layers/pool.h"

using namespace tg;
using namespace tg::ops;

namespace {
Tensor ramp4x4() { return arange(1, 17, 1, kFloat64).view({1, 1, 4, 4}); }

// Distinct values 0.37 apart in random order: no ties within a window, so max pooling
// is differentiable at the test point.
Tensor distinct(const Shape& s, Generator* gen) {
  return mul(randperm(shape_numel(s), gen).to(kFloat64), 0.37).view(s);
}
}  // namespace

TEST_CASE("max_pool2d: hand-computed values and indices") {
  MaxPool2dResult r = max_pool2d(ramp4x4(), 2, 2);
  CHECK(r.y.to_vector<double>() == std::vector<double>{6, 8, 14, 16});
  CHECK(r.indices.to_vector<int64_t>() == std::vector<int64_t>{5, 7, 13, 15});
  // Kernel 3, stride 2, padding 1 on −ramp: the padding never wins over negative values.
  MaxPool2dResult n = max_pool2d(neg(ramp4x4()), 3, 2, 1);
  CHECK(n.y.to_vector<double>() == std::vector<double>{-1, -2, -5, -6});
  CHECK(n.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 4, 5});
  // The module's stride defaults to the kernel size.
  MaxPool2d pool(2);
  CHECK(pool.stride.h == 2);
  CHECK(pool(Variable(ramp4x4())).data().to_vector<double>() == std::vector<double>{6, 8, 14, 16});
}

TEST_CASE("max_pool2d: 2x2 stride 2 (its own kernel) keeps the general rule for ties, NaN and -inf") {
  // Windows: a tie (the first position wins); 1 then NaN then NaN then 9 (the first NaN
  // wins and stays); all -inf (the first position); 5, 7 / 7, 6 (the first 7).
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  for (DType dt : {kFloat32, kFloat64}) {
    CAPTURE(dtype_name(dt));
    Tensor x = from_vector(std::vector<double>{3, 3, 1, nan, -inf, -inf, 5, 7, 3, 2, nan, 9, -inf, -inf, 7, 6},
                           {1, 1, 2, 8})
                   .to(dt);
    MaxPool2dResult r = max_pool2d(x, 2, 2);
    const auto y = r.y.to_vector<double>();
    CHECK(y[0] == 3);
    CHECK(std::isnan(y[1]));
    CHECK(y[2] == -inf);
    CHECK(y[3] == 7);
    CHECK(r.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 3, 4, 7});
  }
}

TEST_CASE("max_pool2d: gradient goes to each window's maximum, float64 gradcheck away from ties") {
  Variable x(ramp4x4(), true);
  sum(max_pool2d(x, 2)).backward();
  std::vector<double> g(16, 0.0);
  for (int i : {5, 7, 13, 15}) g[i] = 1;
  CHECK(x.grad().to_vector<double>() == g);
  Generator gen(3);
  auto f = [](const std::vector<Variable>& v) { return max_pool2d(v[0], {3, 2}, Int2{2, 1}, 1); };
  auto r = gradcheck(f, {distinct({2, 3, 7, 6}, &gen)});
  CHECK_MESSAGE(r.ok, r.message);
  auto r2 = gradcheck([](const std::vector<Variable>& v) { return max_pool2d(v[0], 2); }, {distinct({1, 2, 5, 5}, &gen)});
  CHECK_MESSAGE(r2.ok, r2.message);
}

TEST_CASE("avg_pool2d: hand-computed values with and without counting the padding") {
  CHECK(avg_pool2d(ramp4x4(), 2, 2).to_vector<double>() == std::vector<double>{3.5, 5.5, 11.5, 13.5});
  // Kernel 2, stride 2, padding 1: corner windows hold one pixel, edge windows two.
  CHECK(avg_pool2d(ramp4x4(), 2, 2, 1).to_vector<double>() ==
        std::vector<double>{0.25, 1.25, 1, 3.5, 8.5, 5, 3.25, 7.25, 4});
  CHECK(avg_pool2d(ramp4x4(), 2, 2, 1, false).to_vector<double>() ==
        std::vector<double>{1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16});
  AvgPool2d pool(2, 1);
  CHECK(pool(Variable(ramp4x4())).shape() == Shape{1, 1, 3, 3});
}

TEST_CASE("avg_pool2d: float64 gradcheck") {
  Generator gen(5);
  for (bool include_pad : {true, false}) {
    auto f = [include_pad](const std::vector<Variable>& v) { return avg_pool2d(v[0], {3, 2}, Int2{2, 1}, 1, include_pad); };
    auto r = gradcheck(f, {randn({2, 3, 7, 5}, kFloat64, &gen)});
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("adaptive_avg_pool2d: bins, global pooling, gradcheck") {
  // 4x4 → 3x3: bins [0,2), [1,3), [2,4) in both dims.
  CHECK(adaptive_avg_pool2d(ramp4x4(), 3).to_vector<double>() ==
        std::vector<double>{3.5, 4.5, 5.5, 7.5, 8.5, 9.5, 11.5, 12.5, 13.5});
  Tensor x = randn({2, 3, 5, 7}, kFloat64);
  AdaptiveAvgPool2d global(1);
  Variable y = global(Variable(x));
  CHECK(y.shape() == Shape{2, 3, 1, 1});
  CHECK(allclose(y.data(), mean(x, {2, 3}, true), 1e-12, 1e-12));
  auto r = gradcheck([](const std::vector<Variable>& v) { return adaptive_avg_pool2d(v[0], {3, 2}); },
                     {randn({2, 2, 7, 5}, kFloat64)});
  CHECK_MESSAGE(r.ok, r.message);
  auto r2 = gradcheck([](const std::vector<Variable>& v) { return adaptive_avg_pool2d(v[0], 1); },
                      {randn({1, 3, 4, 3}, kFloat64)});
  CHECK_MESSAGE(r2.ok, r2.message);
}

TEST_CASE("pooling: bad arguments name the shapes") {
  Tensor x = zeros({1, 2, 4, 4});
  CHECK_THROWS_WITH_AS(max_pool2d(x, 3, 1, 2), "max_pool2d: padding (2, 2) must be at most half of kernel_size (3, 3)",
                       Error);
  CHECK_THROWS_WITH_AS(max_pool2d(x, 7, 1, 1),
                       "max_pool2d: kernel 7x7 is larger than the padded input 6x6 (input [1, 2, 4, 4], padding (1, 1))",
                       Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(zeros({2, 4, 4}), 2), "avg_pool2d: expected a 4-D input [N, C, H, W], got shape [2, 4, 4]",
                       Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(x, 0), "avg_pool2d: kernel_size must be >= 1, got (0, 0)", Error);
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d(x, {0, 2}), "adaptive_avg_pool2d: output_size must be >= 1, got (0, 2)", Error);
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({1, 1, 2, 2}, kInt64), 2),
                       "max_pool2d: expected a float32 or float64 input, got int64", Error);
}
