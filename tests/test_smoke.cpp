#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "activations/basic.h"
#include "core/random.h"

using namespace tg;

TEST_CASE("smoke") {
  Tensor a = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector(std::vector<double>{10, 20, 30}, {3});
  Tensor c = a + b;
  CHECK(c.to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  Tensor m = matmul(a, a.t());
  CHECK(m.to_vector<double>() == std::vector<double>{14, 32, 32, 77});
  CHECK(sum(a, {0}).to_vector<double>() == std::vector<double>{5, 7, 9});
  CHECK(sum(a, {1}).to_vector<double>() == std::vector<double>{6, 15});
  CHECK(argmax(a, 1).to_vector<int64_t>() == std::vector<int64_t>{2, 2});
  auto r = gradcheck([](const std::vector<Variable>& v) { return sum(mul(matmul(v[0], v[1]), v[0])); },
                     {randn({3, 3}, kFloat64), randn({3, 3}, kFloat64)});
  CHECK_MESSAGE(r.ok, r.message);
  auto r2 = gradcheck([](const std::vector<Variable>& v) { return cross_entropy(v[0], from_vector(std::vector<int64_t>{0, 2}, {2})); },
                     {randn({2, 3}, kFloat64)});
  CHECK_MESSAGE(r2.ok, r2.message);
}
