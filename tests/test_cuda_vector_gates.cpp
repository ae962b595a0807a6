// The norm gates (built-in and tabulated φ, plain and normalized, with a bias), external
// gates, GLU/SwiGLU and per-vector dropout on CUDA devices against the CPU, the oracle:
// forward, input and bias gradients for every grouping, both dtypes, zero vectors and
// huge norms; dropout masks equal to the CPU's for the same seed. The group operations
// run on the CPU only: a CUDA tensor is an error naming the op. Tests skip with one
// "no CUDA device" line where there is none. Tolerances as in
// test_cuda_vector_activations.cpp: both backends sum in double and evaluate the gate in
// double by the same code (norm_gate.h), then round to the dtype.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "activations/activations.h"
#include "core/ops.h"
#include "tests/cuda_parity.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;

namespace {

using G = VectorGrouping;

struct Case {
  const char* name;
  Shape shape;
  G grouping;
  int64_t d;
};

const Case kCases[] = {
    {"blocks(4), 16-byte rows", {2, 3, 8, 8}, G::blocks(4), 16},
    {"blocks(4), edge blocks", {2, 3, 5, 6}, G::blocks(4), 16},
    {"blocks(1)", {2, 2, 3, 5}, G::blocks(1), 1},
    {"last_dim d = 1", {37, 1}, G::last_dim(), 1},
    {"last_dim d = 3", {3, 11, 3}, G::last_dim(), 3},
    {"last_dim d = 16", {45, 16}, G::last_dim(), 16},
    {"last_dim d = 1024", {5, 1024}, G::last_dim(), 1024},
    {"channels C = 3", {2, 3, 4, 5}, G::channels(), 3},
    {"channels C = 16 over 42 positions", {2, 16, 6, 7}, G::channels(), 16},
    {"channels C = 64 over 4 positions", {3, 64, 2, 2}, G::channels(), 64},
};

double k_of(DType dt, int64_t d) { return dt == kFloat32 ? 8 : 8 + 4 * std::sqrt((double)d); }

struct Gate {
  const char* name;
  NormPhi phi;
  bool normalize, bias;
};

std::vector<Gate> gates() {
  return {{"squash", NormPhi::sabour_squash(), false, false},   {"escnn_squash", NormPhi::escnn_squash(), true, false},
          {"n_relu", NormPhi::relu(), true, true},              {"n_sigmoid", NormPhi::sigmoid(), true, true},
          {"softplus plain", NormPhi::softplus(), false, true}, {"gelu function", NormPhi::activation("gelu"), false, true},
          {"tanh function normalized", NormPhi::activation("tanh"), true, true}};
}

}  // namespace

TEST_CASE("cuda: norm gates forward, input and bias gradients match the CPU for every grouping and dtype") {
  if (!have_gpu()) return;
  uint64_t seed = 900;
  for (const Gate& gate : gates())
    for (DType dt : {kFloat32, kFloat64})
      for (const Case& c : kCases)
        for (int extreme = 0; extreme < 3; ++extreme) {  // random, zero vectors, huge norms
          const std::string what = std::string(gate.name) + ", " + c.name + ", " + dtype_name(dt) +
                                   (extreme == 1 ? ", zeros" : extreme == 2 ? ", huge" : "");
          INFO(what);
          Tensor x = extreme == 1 ? zeros(c.shape, dt) : data(c.shape, dt, ++seed);
          if (extreme == 2) x = mul(x, dt == kFloat32 ? 1e30 : 1e200);
          const Tensor g = data(c.shape, dt, ++seed);
          const Tensor b = mul(data(vector_bias_shape(c.shape, c.grouping), dt, ++seed), 0.5);
          Variable xc(x, true), xg(gpu(x), true), bc(b, true), bg(gpu(b), true);
          NormActivationOptions oc, og;
          oc.normalize = og.normalize = gate.normalize;
          if (gate.bias) {
            oc.bias = bc;
            og.bias = bg;
          }
          const Variable yc = norm_activation(xc, c.grouping, gate.phi, oc);
          const Variable yg = norm_activation(xg, c.grouping, gate.phi, og);
          check_parity(yg.data(), yc.data(), what + ": forward", k_of(dt, c.d));
          yc.backward(g);
          yg.backward(gpu(g));
          check_parity(xg.grad(), xc.grad(), what + ": backward", k_of(dt, c.d), 4);
          if (gate.bias) {
            REQUIRE(bg.grad().device().is_cuda());
            const double vectors = (double)VectorPlan(c.shape, c.grouping, "test").count();
            check_parity(bg.grad(), bc.grad(), what + ": bias gradient", k_of(dt, c.d), vectors);
          }
        }
}

TEST_CASE("cuda: external gates, GLU and SwiGLU match the CPU, gradients to v, g and b included") {
  if (!have_gpu()) return;
  uint64_t seed = 1900;
  auto sig = [](const Variable& t) { return sigmoid(t); };
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const std::string what = std::string(c.name) + ", " + dtype_name(dt);
      INFO(what);
      const Tensor x = data(c.shape, dt, ++seed), g = data(c.shape, dt, ++seed);
      const Tensor gt = data(vector_shape(c.shape, c.grouping, "test"), dt, ++seed);
      const Tensor b = data(vector_bias_shape(c.shape, c.grouping), dt, ++seed);
      Variable xc(x, true), gc(gt, true), bc(b, true), xg(gpu(x), true), gg(gpu(gt), true), bg(gpu(b), true);
      const Variable yc = external_gate(xc, gc, c.grouping, sig, bc);
      const Variable yg = external_gate(xg, gg, c.grouping, sig, bg);
      check_parity(yg.data(), yc.data(), what + ": forward", k_of(dt, c.d));
      yc.backward(g);
      yg.backward(gpu(g));
      check_parity(xg.grad(), xc.grad(), what + ": dx", k_of(dt, c.d));
      check_parity(gg.grad(), gc.grad(), what + ": d gates", k_of(dt, c.d), (double)c.d);
      check_parity(bg.grad(), bc.grad(), what + ": d bias", k_of(dt, c.d), (double)x.numel());
    }
  for (DType dt : {kFloat32, kFloat64}) {
    const Tensor z = data({6, 10, 4}, dt, 3000), gz = data({6, 5, 4}, dt, 3001);
    for (auto f : {glu, swiglu}) {
      Variable zc(z, true), zg(gpu(z), true);
      const Variable yc = f(zc, 1), yg = f(zg, 1);
      check_parity(yg.data(), yc.data(), std::string("glu/swiglu forward, ") + dtype_name(dt));
      yc.backward(gz);
      yg.backward(gpu(gz));
      check_parity(zg.grad(), zc.grad(), std::string("glu/swiglu backward, ") + dtype_name(dt));
    }
  }
}

TEST_CASE("cuda: per-vector dropout draws the CPU's masks and advances the generator alike") {
  if (!have_gpu()) return;
  uint64_t seed = 4000;
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const std::string what = std::string(c.name) + ", " + dtype_name(dt);
      const Tensor x = data(c.shape, dt, ++seed), g = data(c.shape, dt, ++seed);
      Generator genc(seed), geng(seed);
      Variable xc(x, true), xg(gpu(x), true);
      const Variable yc = vector_dropout(xc, 0.4, c.grouping, true, &genc);
      const Variable yg = vector_dropout(xg, 0.4, c.grouping, true, &geng);
      REQUIRE(yg.data().to_vector<double>() == yc.data().to_vector<double>());
      CHECK(genc.offset() == geng.offset());
      yc.backward(g);
      yg.backward(gpu(g));
      check_parity(xg.grad(), xc.grad(), what + ": backward");
    }
}

TEST_CASE("cuda: Maxout, GroupSort, NormPool and NormMaxPool match the CPU, values and gradients") {
  if (!have_gpu()) return;
  uint64_t seed = 5000;
  using Op = std::function<Variable(const Variable&, const G&)>;
  const std::vector<std::pair<const char*, Op>> ops = {
      {"maxout", [](const Variable& v, const G& g) { return maxout(v, g); }},
      {"group_sort", [](const Variable& v, const G& g) { return group_sort(v, g); }},
      {"group_sort ascending", [](const Variable& v, const G& g) { return group_sort(v, g, false); }},
      {"norm_pool", [](const Variable& v, const G& g) { return norm_pool(v, g); }},
  };
  for (const auto& [name, op] : ops)
    for (DType dt : {kFloat32, kFloat64})
      for (const Case& c : kCases) {
        if (c.d > 64 && std::string(name).rfind("group_sort", 0) == 0) continue;  // CPU only, tested below
        const std::string what = std::string(name) + ", " + c.name + ", " + dtype_name(dt);
        INFO(what);
        const Tensor x = data(c.shape, dt, ++seed);
        Variable xc(x, true), xg(gpu(x), true);
        const Variable yc = op(xc, c.grouping), yg = op(xg, c.grouping);
        check_parity(yg.data(), yc.data(), what + ": forward", k_of(dt, c.d));
        const Tensor g = data(yc.shape(), dt, ++seed);
        yc.backward(g);
        yg.backward(gpu(g));
        check_parity(xg.grad(), xc.grad(), what + ": backward", k_of(dt, c.d));
      }
  for (DType dt : {kFloat32, kFloat64})
    for (int64_t stride : {2, 1}) {
      const std::string what = std::string("norm_max_pool stride ") + std::to_string(stride) + ", " + dtype_name(dt);
      const Tensor x = data({2, 5, 7, 9}, dt, ++seed);
      Variable xc(x, true), xg(gpu(x), true);
      const Variable yc = norm_max_pool(xc, 2, stride), yg = norm_max_pool(xg, 2, stride);
      CHECK(yg.data().to_vector<double>() == yc.data().to_vector<double>());
      const Tensor g = data(yc.shape(), dt, ++seed);
      yc.backward(g);
      yg.backward(gpu(g));
      check_parity(xg.grad(), xc.grad(), what + ": backward");
    }
  const Variable big(gpu(data({3, 100}, kFloat32, 5999)));
  CHECK(error_of([&] { group_sort(big, G::last_dim()); }) ==
        "group_sort: a CUDA device sorts vectors of up to 64 elements, got d = 100 (last_dim)");
}
