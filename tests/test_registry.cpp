// The activation registry: every row builds a module that runs on conv and linear
// shapes, names are unique, and an unknown name is an error listing the choices.
#include <doctest/doctest.h>

#include <set>

#include "activations/activations.h"
#include "core/random.h"
#include "test_activations_common.h"
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

TEST_CASE("registry: every deterministic elementwise activation has test rows and mpmath references") {
  // The registry is the list a new activation is added to; this keeps the tests' table
  // (tests/test_activations_common.h) and the mpmath values (scripts/gen_activation_table.py)
  // from falling behind it. PReLU's slopes are parameters: its own tests cover it.
  std::set<std::string> tested, referenced;
  for (const test_act::Elementwise& e : test_act::elementwise_activations()) tested.insert(e.name);
  for (const test_act::RefRow& r : test_act::read_activation_table()) referenced.insert(r.name);
  int checked = 0;
  for (const ActivationInfo& a : activation_registry()) {
    if (a.vector || a.stochastic || a.name == "prelu") continue;
    CAPTURE(a.name);
    CHECK(tested.count(a.name) == 1);
    CHECK(referenced.count(a.name) == 1);
    ++checked;
  }
  CHECK(checked == 15);
}
