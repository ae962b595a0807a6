// The vector activations (VecGELU, ProbabilisticVecGELU, VecErf) on CUDA devices against
// the CPU, the oracle: forward and backward for every grouping and both kernel paths of
// blocks(k) (k = 4 with W % 4 == 0 takes 16-byte rows; anything else the general loop),
// d ∈ {1, 2, 3, 16, 64, 1024}, edge blocks, float32 and float64, zero vectors, huge
// norms and non-finite inputs, VecErf's σ gradient (also reproducible run to run), and
// the probabilistic masks, which must equal the CPU's for the same seed. Tests skip with
// one "no CUDA device" line where there is none.
//
// Tolerances: check_parity allows k·ε·(scale + |cpu|). Both backends sum ‖v‖² and v·g in
// double and evaluate the gate in double, then round to the dtype, so float32 agrees to
// a few ulps (k = 8). In float64 the sums' order differs (relative error ~√d·ε) and the
// gate P(d/2, x) amplifies a relative change of x by up to ~√d near its median, so
// k = 8 + 4√d. A backward element sums two terms of a few units: scale 4.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "activations/saved.h"
#include "activations/vec_erf.h"
#include "activations/vec_gelu.h"
#include "core/ops.h"
#include "tests/cuda_parity.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;

namespace {

using G = VectorGrouping;
using Op = std::function<Variable(const Variable&, const G&)>;

struct Case {
  const char* name;
  Shape shape;
  G grouping;
  int64_t d;  // the largest vector dimension
};

const Case kCases[] = {
    {"blocks(4), 16-byte rows", {2, 3, 8, 8}, G::blocks(4), 16},
    {"blocks(4), bottom edge blocks of 3 rows", {2, 2, 7, 12}, G::blocks(4), 16},
    {"blocks(4), W % 4 != 0: edge blocks on both sides", {2, 3, 5, 6}, G::blocks(4), 16},
    {"blocks(1): d = 1", {2, 2, 3, 5}, G::blocks(1), 1},
    {"blocks(3), edge blocks", {1, 2, 7, 5}, G::blocks(3), 9},
    {"blocks(8): d = 64", {1, 2, 16, 20}, G::blocks(8), 64},
    {"last_dim d = 1", {37, 1}, G::last_dim(), 1},
    {"last_dim d = 2", {19, 2}, G::last_dim(), 2},
    {"last_dim d = 3", {3, 11, 3}, G::last_dim(), 3},
    {"last_dim d = 16", {45, 16}, G::last_dim(), 16},
    {"last_dim d = 37", {9, 37}, G::last_dim(), 37},
    {"last_dim d = 64", {13, 64}, G::last_dim(), 64},
    {"last_dim d = 1024", {5, 1024}, G::last_dim(), 1024},
    {"channels C = 3 over 20 positions", {2, 3, 4, 5}, G::channels(), 3},
    {"channels C = 16 over 42 positions (a thread per pixel)", {2, 16, 6, 7}, G::channels(), 16},
    {"channels C = 64 over 4 positions", {3, 64, 2, 2}, G::channels(), 64},
    {"channels C = 1024, N×C", {3, 1024}, G::channels(), 1024},
    {"channels C = 1", {2, 1, 9, 9}, G::channels(), 1},
};

double k_of(DType dt, int64_t d) { return dt == kFloat32 ? 8 : 8 + 4 * std::sqrt((double)d); }

std::string name_of(const char* op, const Case& c, DType dt) {
  return std::string(op) + ", " + c.name + ", " + dtype_name(dt);
}

// y = f(x) and dx for upstream g on the CPU and on the GPU, compared.
void check_op(const Op& f, const G& grouping, const Tensor& x, const Tensor& g, double k, const std::string& what) {
  Variable xc(x, true), xg(gpu(x), true);
  const Variable yc = f(xc, grouping), yg = f(xg, grouping);
  check_parity(yg.data(), yc.data(), what + ": forward", k);
  yc.backward(g);
  yg.backward(gpu(g));
  check_parity(xg.grad(), xc.grad(), what + ": backward", k, 4);
}

// Every case in both dtypes, x with NaN, ±inf and ±0 in its first vectors.
void check_cases(const char* op, const Op& f) {
  uint64_t seed = 100;
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const Tensor x = data(c.shape, dt, ++seed, true), g = data(c.shape, dt, ++seed);
      check_op(f, c.grouping, x, g, k_of(dt, c.d), name_of(op, c, dt));
    }
}

// Zero vectors, and norms near the top of the dtype's range: ‖v‖² overflows float but
// not the double the kernels sum in; in float64 it overflows to ∞, where s = 1, s′ = 0.
void check_extremes(const char* op, const Op& f) {
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const Tensor g = data(c.shape, dt, 7);
      check_op(f, c.grouping, zeros(c.shape, dt), g, 8, name_of(op, c, dt) + ", zero vectors");
      const Tensor huge = mul(data(c.shape, dt, 8), dt == kFloat32 ? 1e30 : 1e200);
      check_op(f, c.grouping, huge, g, 8, name_of(op, c, dt) + ", huge norms");
    }
}

Variable vec_gelu_op(const Variable& x, const G& grouping) { return vec_gelu(x, grouping); }

// probabilistic_vec_gelu from a fresh generator with `seed` (the same draws on both devices).
Variable prob_op(const Variable& x, const G& grouping, uint64_t seed) {
  Generator gen(seed);
  return probabilistic_vec_gelu(x, grouping, true, &gen);
}

}  // namespace

TEST_CASE("cuda: vec_gelu forward and backward match the CPU for every grouping, d and dtype") {
  if (!have_gpu()) return;
  check_cases("vec_gelu", vec_gelu_op);
}

TEST_CASE("cuda: vec_gelu on zero vectors and huge norms matches the CPU") {
  if (!have_gpu()) return;
  check_extremes("vec_gelu", vec_gelu_op);
}

TEST_CASE("cuda: vec_gelu of non-contiguous views matches the CPU") {
  if (!have_gpu()) return;
  const Tensor x = data({2, 3, 8, 12}, kFloat32, 40), g = data({2, 3, 12, 8}, kFloat32, 41);
  Variable xc(x.transpose(2, 3), true), xg(gpu(x).transpose(2, 3), true);
  REQUIRE_FALSE(xg.data().is_contiguous());
  const Variable yc = vec_gelu(xc, G::blocks(4)), yg = vec_gelu(xg, G::blocks(4));
  check_parity(yg.data(), yc.data(), "blocks(4) of a transposed view: forward");
  yc.backward(g.transpose(2, 3).contiguous().transpose(2, 3));
  yg.backward(gpu(g).transpose(2, 3).contiguous().transpose(2, 3));
  check_parity(xg.grad(), xc.grad(), "blocks(4) of a transposed view: backward", 8, 4);

  const Tensor x2 = data({4, 6, 5}, kFloat64, 42);
  const Variable y2c = vec_gelu(Variable(x2.select(1, 2)), G::last_dim());
  const Variable y2g = vec_gelu(Variable(gpu(x2).select(1, 2)), G::last_dim());
  check_parity(y2g.data(), y2c.data(), "last_dim of a strided slice");

  // Contiguous views one element into their storage: blocks(4) with W % 4 == 0 but
  // pointers that are not 16-byte aligned must take the general loop, not the float4 rows.
  for (DType dt : {kFloat32, kFloat64}) {
    const int64_t n = 2 * 3 * 8 * 8;
    const Tensor xs = data({n + 1}, dt, 43), gs = data({n + 1}, dt, 44);
    const Tensor xgs = gpu(xs), ggs = gpu(gs);
    const Tensor x3 = xgs.narrow(0, 1, n).view({2, 3, 8, 8}), g3 = ggs.narrow(0, 1, n).view({2, 3, 8, 8});
    REQUIRE(x3.is_contiguous());
    REQUIRE(reinterpret_cast<uintptr_t>(x3.raw_data()) % 16 != 0);
    Variable x3c(xs.narrow(0, 1, n).view({2, 3, 8, 8}), true), x3g(x3, true);
    const Variable y3c = vec_gelu(x3c, G::blocks(4)), y3g = vec_gelu(x3g, G::blocks(4));
    check_parity(y3g.data(), y3c.data(), std::string("blocks(4) at an unaligned offset: forward, ") + dtype_name(dt));
    y3c.backward(gs.narrow(0, 1, n).view({2, 3, 8, 8}));
    y3g.backward(g3);
    check_parity(x3g.grad(), x3c.grad(),
                 std::string("blocks(4) at an unaligned offset: backward, ") + dtype_name(dt), 8, 4);
  }
}

TEST_CASE("cuda: vec_erf forward, input and σ gradients match the CPU, σ's gradient is reproducible") {
  if (!have_gpu()) return;
  uint64_t seed = 500;
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const std::string what = name_of("vec_erf", c, dt);
      INFO(what);
      const Tensor x = data(c.shape, dt, ++seed, true), g = data(c.shape, dt, ++seed);
      // float32: both backends sum ∂L/∂σ in double and round once; float64: one term per vector.
      const double scale = dt == kFloat32 ? 1 : (double)VectorPlan(c.shape, c.grouping, "test").count();
      for (double s : {0.4, 1.0, 3.0}) {
        check_op([s, dt](const Variable& v, const G& gr) { return vec_erf(v, Variable(full({1}, s, dt)), gr); },
                 c.grouping, x, g, k_of(dt, c.d), what + ", input gradient, sigma " + std::to_string(s));
        // σ on the CPU and on the GPU, with x on the GPU: σ's gradient stays on σ's device.
        Variable xc(x, true), sc(full({1}, s, dt), true);
        vec_erf(xc, sc, c.grouping).backward(g);
        Variable xg(gpu(x), true), sg(gpu(full({1}, s, dt)), true), sh(full({1}, s, dt), true);
        vec_erf(xg, sg, c.grouping).backward(gpu(g));
        check_parity(sg.grad(), sc.grad(), what + ": sigma gradient on the GPU", k_of(dt, c.d), scale);
        vec_erf(xg, sh, c.grouping).backward(gpu(g));
        REQUIRE(sh.grad().device().is_cpu());
        check_parity(gpu(sh.grad()), sc.grad(), what + ": sigma gradient on the CPU", k_of(dt, c.d), scale);
        // Run to run: bit for bit (per-block partial sums in a fixed order, no atomics).
        Variable sg2(gpu(full({1}, s, dt)), true);
        vec_erf(Variable(gpu(x)), sg2, c.grouping).backward(gpu(g));
        CHECK(sg2.grad().item() == sg.grad().item());
      }
    }
}

TEST_CASE("cuda: vec_erf on zero vectors and huge norms matches the CPU") {
  if (!have_gpu()) return;
  for (DType dt : {kFloat32, kFloat64})
    check_extremes("vec_erf",
                   [dt](const Variable& v, const G& gr) { return vec_erf(v, Variable(full({1}, 1.5, dt)), gr); });
}

TEST_CASE("cuda: vec_erf's σ gradient over many blocks (a multi-block reduction) matches the CPU") {
  if (!have_gpu()) return;
  // 64 planes of 64×64 in 4×4 blocks: 16384 vectors, 64 thread blocks of partial sums.
  const Tensor x = data({4, 16, 64, 64}, kFloat64, 60), g = data({4, 16, 64, 64}, kFloat64, 61);
  Variable xc(x), sc(full({1}, 0.8, kFloat64), true), xg(gpu(x)), sg(gpu(full({1}, 0.8, kFloat64)), true);
  vec_erf(xc, sc).backward(g);
  vec_erf(xg, sg).backward(gpu(g));
  check_parity(sg.grad(), sc.grad(), "sigma gradient", 64, 16384);
}

TEST_CASE("cuda: probabilistic_vec_gelu draws the CPU's masks and saves the CPU's p for every grouping") {
  if (!have_gpu()) return;
  uint64_t seed = 700;
  int64_t kept = 0, dropped = 0;
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : kCases) {
      const std::string what = name_of("probabilistic_vec_gelu", c, dt);
      INFO(what);
      const uint64_t s = ++seed;
      const Tensor x = data(c.shape, dt, ++seed), g = data(c.shape, dt, ++seed);
      Variable xc(x, true), xg(gpu(x), true);
      const Variable yc = prob_op(xc, c.grouping, s), yg = prob_op(xg, c.grouping, s);
      // y = m·x exactly: the masks must agree element for element.
      const auto a = yg.data().to_vector<double>(), b = yc.data().to_vector<double>();
      REQUIRE(a == b);
      for (size_t i = 0; i < b.size(); ++i) (b[i] == 0 ? dropped : kept) += 1;
      check_parity(saved_tensors(yg)[0], saved_tensors(yc)[0], what + ": saved p", k_of(dt, c.d));
      yc.backward(g);
      yg.backward(gpu(g));
      check_parity(xg.grad(), xc.grad(), what + ": backward (p·g)", k_of(dt, c.d));
    }
  // Both outcomes occur, so the comparison above saw masks of both kinds.
  CHECK(kept > 1000);
  CHECK(dropped > 1000);
}

TEST_CASE("cuda: probabilistic_vec_gelu advances the generator as on the CPU, eval mode is vec_gelu") {
  if (!have_gpu()) return;
  const Tensor x = data({2, 3, 8, 8}, kFloat32, 80);
  Generator gc(5), gg(5);
  for (int i = 0; i < 3; ++i) {
    const Tensor yc = probabilistic_vec_gelu(Variable(x), G::blocks(4), true, &gc).data();
    const Tensor yg = probabilistic_vec_gelu(Variable(gpu(x)), G::blocks(4), true, &gg).data();
    CHECK(yg.to_vector<double>() == yc.to_vector<double>());
  }
  check_parity(probabilistic_vec_gelu(Variable(gpu(x)), G::blocks(4), false).data(),
               vec_gelu(Variable(x), G::blocks(4)).data(), "eval mode");
}
