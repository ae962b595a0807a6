// The activation registry: every row builds a module that runs on conv and linear
// shapes, names are unique, and an unknown name is an error listing the choices.
#include <doctest/doctest.h>

#include <set>

#include "activations/activations.h"
#include "core/random.h"
#include "test_util.h"

using namespace tg;

TEST_CASE("registry: every activation builds and keeps the shape after a conv and after a linear layer") {
  Generator gen(3);
  const Tensor spatial = randn({2, 3, 8, 8}, kFloat32, &gen), flat = randn({4, 16}, kFloat32, &gen);
  std::set<std::string> names;
  for (const ActivationInfo& a : activation_registry()) {
    CAPTURE(a.name);
    CHECK(names.insert(a.name).second);
    CHECK(!a.summary.empty());
    auto conv_act = a.make(true, 3);
    CHECK(conv_act->forward(Variable(spatial)).shape() == spatial.shape());
    auto linear_act = a.make(false, 16);
    CHECK(linear_act->forward(Variable(flat)).shape() == flat.shape());
  }
  CHECK(names.count("gelu"));
  CHECK(names.count("vecgelu"));
  CHECK(activation_info("vecgelu").vector);
  CHECK_FALSE(activation_info("gelu").vector);
  CHECK(activation_info("stochastic_gelu").stochastic);
}

TEST_CASE("registry: PReLU gets one slope per channel after a conv, one after a linear layer") {
  CHECK(make_activation("prelu", true, 7)->parameters()[0].numel() == 7);
  CHECK(make_activation("prelu", false, 7)->parameters()[0].numel() == 1);
}

TEST_CASE("registry: an unknown name lists the choices") {
  const std::string e = testing::error_of([] { make_activation("gelux"); });
  CHECK(e.rfind("activation: unknown activation 'gelux' (choose from relu, leaky_relu,", 0) == 0);
  CHECK(activation_names().find("vecerf") != std::string::npos);
}
