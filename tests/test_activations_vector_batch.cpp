// The batched CPU kernels of the vector activations (activations/vector_kernels.h with
// the packet gates of chi_gate_batch.h and vec_erf.cpp) against a vector-by-vector
// reference written here from the double special functions (special::gammainc_p and
// gammainc_p_dx, std::erf): norms from 1e-20 to 60 for every d the gates treat apart
// (odd, even ≤ 64, > 64), every grouping with ragged edges and partial batches, one and
// two threads.
//
// Bounds: float64 relative (1 + d/10)·1e-13 forward, ten times that backward (relative
// to the sum of the two terms' magnitudes): the gates are good to ~1e-13, and near r = 0
// s ∝ r^d, so the ~d·1e-16 by which ‖v‖² summed in another order differs grows d/2-fold.
// float32: |y − y_ref| ≤ 2^-23·|y_ref| (the double gate
// rounded to float, times x: two roundings) and |dx − dx_ref| ≤ 2^-22·(|s·g| + |c·(v·g)·v|)
// (two rounded products and their rounded sum), on results above 1e-30 (smaller ones
// are flushed to zero with the denormals). VecErf's float32 gate is evaluated in float
// (SLEEF's erf ≤ 1.1 ulp, exp ≤ 1 ulp, on arguments rounded once): four times those.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "activations/special.h"
#include "core/philox.h"
#include "core/parallel.h"
#include "core/random.h"
#include "test_activations_common.h"

using namespace tg;

namespace {

using G = VectorGrouping;

// A gate's s and s′/r for ‖v‖² = r2 in dimension d.
struct Gate {
  double s, coef;
};
using GateFn = std::function<Gate(double r2, int64_t d)>;

Gate vec_gelu_ref(double r2, int64_t d) {
  return {special::gammainc_p(0.5 * d, 0.5 * r2), special::gammainc_p_dx(0.5 * d, 0.5 * r2)};
}

// y = s·v and dx = s·g + c·(v·g)·v vector by vector, from the plan's patches; mag is the
// scale of dx's error bound, |s·g| + |c·(v·g)·v|.
struct Reference {
  std::vector<double> y, dx, mag;
};
Reference reference(const Tensor& x, const Tensor& g, const G& grouping, const GateFn& gate) {
  const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
  const VectorPlan plan(x.shape(), grouping, "reference");
  Reference out{std::vector<double>(xv.size()), std::vector<double>(xv.size()), std::vector<double>(xv.size())};
  for (int64_t v = 0; v < plan.count(); ++v) {
    const VectorPatch p = plan.patch(v);
    std::vector<int64_t> at;
    for (int64_t i = 0; i < p.rows; ++i)
      for (int64_t j = 0; j < p.cols; ++j) at.push_back(p.base + i * p.row_stride + j);
    double r2 = 0, dot = 0;
    for (int64_t o : at) {
      r2 += xv[o] * xv[o];
      dot += xv[o] * gv[o];
    }
    const Gate q = gate(r2, p.dim());
    const double c = r2 > 0 && q.coef != 0 ? q.coef * dot : 0.0;
    for (int64_t o : at) {
      out.y[o] = q.s * xv[o];
      out.dx[o] = q.s * gv[o] + c * xv[o];
      out.mag[o] = std::abs(q.s * gv[o]) + std::abs(c * xv[o]);
    }
  }
  return out;
}

// The largest error of f's forward and backward over the bound (≤ 1 passes), and how
// many elements were compared.
struct Worst {
  double y = 0, dx = 0;
  int64_t compared = 0;
};
// f32_ulps widens the float32 bounds (VecErf evaluates its gate in float).
Worst compare(const std::function<Variable(const Variable&)>& f, const Tensor& x, const Tensor& g,
              const Reference& ref, int64_t d, double f32_ulps = 1) {
  const bool f32 = x.dtype() == kFloat32;
  const double t64 = (1 + 0.1 * (double)d) * 1e-13;
  const double ty = f32 ? f32_ulps * std::ldexp(1.0, -23) : t64, tdx = f32 ? f32_ulps * std::ldexp(1.0, -22) : 10 * t64;
  const double tiny = f32 ? 1e-30 : 1e-300;
  Variable xv(x, true);
  Variable y = f(xv);
  y.backward(g);
  const std::vector<double> yv = y.data().to_vector<double>(), dxv = xv.grad().to_vector<double>();
  Worst w;
  for (size_t i = 0; i < yv.size(); ++i) {
    REQUIRE(std::isfinite(yv[i]));
    REQUIRE(std::isfinite(dxv[i]));
    if (std::abs(ref.y[i]) > tiny) {
      w.y = std::max(w.y, std::abs(yv[i] - ref.y[i]) / (ty * std::abs(ref.y[i])));
      ++w.compared;
    }
    if (ref.mag[i] > tiny) w.dx = std::max(w.dx, std::abs(dxv[i] - ref.dx[i]) / (tdx * ref.mag[i]));
  }
  return w;
}

// Vectors of dimension d along the last dim with norms r = 0, then 1e-20·1.25^k up to 60,
// each a random direction.
Tensor norm_grid(int64_t d, Generator& gen) {
  std::vector<double> radii{0.0};
  for (double r = 1e-20; r < 60; r *= 1.25) radii.push_back(r);
  const int64_t m = (int64_t)radii.size();
  std::vector<double> v = randn({m, d}, kFloat64, &gen).to_vector<double>();
  for (int64_t i = 0; i < m; ++i) {
    double n2 = 0;
    for (int64_t j = 0; j < d; ++j) n2 += v[i * d + j] * v[i * d + j];
    for (int64_t j = 0; j < d; ++j) v[i * d + j] *= radii[i] / std::sqrt(n2);
  }
  return from_vector(v, {m, d});
}

}  // namespace

TEST_CASE("vector activations, batched: VecGELU and VecErf gates against the double reference, r from 1e-20 to 60") {
  Generator gen(71);
  const double sigma = 0.8;
  const GateFn erf_ref = [sigma](double r2, int64_t) {
    const double r = std::sqrt(r2), ds = std::sqrt(2 / M_PI) / sigma * std::exp(-r2 / (2 * sigma * sigma));
    return Gate{std::erf(r / (M_SQRT2 * sigma)), r > 0 ? ds / r : 0.0};
  };
  for (int64_t d : {1, 2, 3, 4, 8, 16, 32, 56, 64, 66}) {
    Tensor x64 = norm_grid(d, gen);
    for (DType dt : {kFloat64, kFloat32}) {
      const Tensor x = x64.to(dt), g = randn(x.shape(), dt, &gen);
      INFO("d=" << d << (dt == kFloat32 ? " float32" : " float64"));
      const Worst wg =
          compare([](const Variable& v) { return vec_gelu(v, G::last_dim()); }, x, g,
                  reference(x, g, G::last_dim(), vec_gelu_ref), d);
      CHECK(wg.y <= 1.0);
      CHECK(wg.dx <= 1.0);
      CHECK(wg.compared > 10 * d);  // not vacuous: most tiny-norm outputs are below 1e-30
      const Variable s(full({1}, sigma, kFloat64));
      const Worst we = compare([&](const Variable& v) { return vec_erf(v, s, G::last_dim()); }, x, g,
                               reference(x, g, G::last_dim(), erf_ref), d, 4);
      CHECK(we.y <= 1.0);
      CHECK(we.dx <= 1.0);
    }
  }
}

TEST_CASE("vector activations, batched: every grouping with ragged edges, one and two threads") {
  // Shapes whose vectors fill no batch evenly: blocks(4) on 7×10 (edge blocks of 3×4,
  // 4×2, 3×2), blocks(4) on 8×56 (strips of 14 blocks), blocks(3), blocks(2), blocks(4)
  // on 3×3 (one ragged block per channel),
  // channels with 70 positions (a batch of 64 and one of 6) and C = 5, last_dim of 3.
  Generator gen(72);
  const int threads = get_num_threads();
  struct Case {
    Shape shape;
    G grouping;
  };
  const std::vector<Case> cases = {{{2, 3, 7, 10}, G::blocks(4)}, {{2, 2, 8, 56}, G::blocks(4)},
                                   {{1, 2, 7, 11}, G::blocks(3)}, {{1, 3, 6, 6}, G::blocks(2)},
                                   {{2, 3, 3, 3}, G::blocks(4)},
                                   {{3, 5, 7, 10}, G::channels()}, {{3, 64, 5, 3}, G::channels()},
                                   {{2, 3, 7, 3}, G::last_dim()}};
  for (const Case& c : cases) {
    for (DType dt : {kFloat64, kFloat32}) {
      const Tensor x = randn(c.shape, dt, &gen), g = randn(c.shape, dt, &gen);
      const Reference ref = reference(x, g, c.grouping, vec_gelu_ref);
      std::vector<Tensor> ys;
      for (int t : {1, 2}) {
        set_num_threads(t);
        INFO(c.grouping.str() << " shape " << shape_str(c.shape) << (dt == kFloat32 ? " float32" : " float64")
                               << " threads " << t);
        const Worst w = compare([&](const Variable& v) { return vec_gelu(v, c.grouping); }, x, g, ref,
                                VectorPlan(c.shape, c.grouping, "test").patch(0).dim());
        CHECK(w.y <= 1.0);
        CHECK(w.dx <= 1.0);
        ys.push_back(vec_gelu(Variable(x), c.grouping).data());
      }
      // Each vector's value is its own: the same bits at any thread count (batch boundaries move).
      CHECK(allclose(ys[0], ys[1], 0, 0));
    }
  }
  set_num_threads(threads);
}

TEST_CASE("vector activations, batched: blocks(4) of a map equal last_dim on the same vectors laid out in rows") {
  // The 4×4 blocks of [2, 3, 8, 12] gathered into rows of 16: the strip kernel (column
  // sums) and the row kernel sum each ‖v‖² in another order, so float32 results agree to
  // 2^-23 relative, float64 to 1e-14 (gradients: 4× that, relative or absolute, as the
  // two terms of dx may cancel).
  Generator gen(73);
  for (DType dt : {kFloat64, kFloat32}) {
    const Tensor x = randn({2, 3, 8, 12}, dt, &gen), g = randn({2, 3, 8, 12}, dt, &gen);
    // [n, c, bi, i, bj, j] → [n, c, bi, bj, i, j] → rows of 16.
    auto rows = [](const Tensor& t) { return t.reshape({2, 3, 2, 4, 3, 4}).permute({0, 1, 2, 4, 3, 5}).contiguous().reshape({36, 16}); };
    Variable xb(x, true), xr(rows(x), true);
    Variable yb = vec_gelu(xb, G::blocks(4)), yr = vec_gelu(xr, G::last_dim());
    yb.backward(g);
    yr.backward(rows(g));
    const double tol = dt == kFloat32 ? std::ldexp(1.0, -23) : 1e-14;
    CHECK(allclose(rows(yb.data()).to(kFloat64), yr.data().to(kFloat64), tol, 1e-30));
    CHECK(allclose(rows(xb.grad()).to(kFloat64), xr.grad().to(kFloat64), 4 * tol, 4 * tol));
  }
}

TEST_CASE("vector activations, batched: full 4x4 blocks (the one-pass kernel) against the double reference") {
  // VecGELU on maps whose blocks are all 4×4 takes blocks4_forward/backward (groups of
  // 16 vectors: sums, packet gates, outputs in one pass). The norm grid's vectors
  // (r = 0, then 1e-20 up to 60) and huge norms (r = 40 to 1e30: the gate's lanes past
  // x = 700 go to chi_gate) laid out as a map two ways: one vector per plane (every group
  // gathered from 16 strips) and one block row of all of them (one strip), at one and
  // two threads (ragged last groups).
  Generator gen(75);
  Tensor grid = norm_grid(16, gen);
  const Tensor huge = randn({5, 16}, kFloat64, &gen);
  std::vector<double> hv = huge.to_vector<double>();
  const double radii[5] = {40, 100, 1e5, 1e10, 1e30};
  for (int i = 0; i < 5; ++i) {
    double n2 = 0;
    for (int j = 0; j < 16; ++j) n2 += hv[i * 16 + j] * hv[i * 16 + j];
    for (int j = 0; j < 16; ++j) hv[i * 16 + j] *= radii[i] / std::sqrt(n2);
  }
  grid = ops::concat({grid, from_vector(hv, {5, 16})}, 0);
  const int64_t m = grid.size(0);
  const int threads = get_num_threads();
  for (DType dt : {kFloat64, kFloat32}) {
    const Tensor planes = grid.to(dt).reshape({1, m, 4, 4});
    const Tensor row = grid.to(dt).reshape({m, 4, 4}).permute({1, 0, 2}).contiguous().reshape({1, 1, 4, 4 * m});
    for (const Tensor& x : {planes, row}) {
      REQUIRE(VectorPlan(x.shape(), G::blocks(4), "test").full_blocks(4));
      const Tensor g = randn(x.shape(), dt, &gen);
      const Reference ref = reference(x, g, G::blocks(4), vec_gelu_ref);
      for (int t : {1, 2}) {
        set_num_threads(t);
        INFO(shape_str(x.shape()) << (dt == kFloat32 ? " float32" : " float64") << " threads " << t);
        const Worst w = compare([](const Variable& v) { return vec_gelu(v, G::blocks(4)); }, x, g, ref, 16);
        CHECK(w.y <= 1.0);
        CHECK(w.dx <= 1.0);
        CHECK(w.compared > 100);
      }
    }
  }
  set_num_threads(threads);
}

TEST_CASE("vector activations, batched: the one-pass 4x4 kernel gives the batched kernels' bits") {
  // A 9×9 map's 4×4 blocks at rows and columns 0..7 are the vectors of its 8×8 corner:
  // the 8×8 map takes the one-pass kernel, the 9×9 one the batched kernels (ragged edge
  // blocks), with batches of two full blocks (their sums a padded packet). Each vector's
  // value is its own, so the corner agrees bit for bit, forward and backward.
  Generator gen(76);
  const int threads = get_num_threads();
  for (DType dt : {kFloat32, kFloat64}) {
    const Tensor x9 = randn({2, 5, 9, 9}, dt, &gen), g9 = randn({2, 5, 9, 9}, dt, &gen);
    const auto corner = [](const Tensor& t) { return t.narrow(2, 0, 8).narrow(3, 0, 8).contiguous(); };
    const Tensor x8 = corner(x9), g8 = corner(g9);
    REQUIRE(VectorPlan(x8.shape(), G::blocks(4), "test").full_blocks(4));
    REQUIRE(!VectorPlan(x9.shape(), G::blocks(4), "test").full_blocks(4));
    for (int t : {1, 2}) {
      set_num_threads(t);
      INFO((dt == kFloat32 ? "float32" : "float64") << " threads " << t);
      Variable v8(x8, true), v9(x9, true);
      Variable y8 = vec_gelu(v8, G::blocks(4)), y9 = vec_gelu(v9, G::blocks(4));
      y8.backward(g8);
      y9.backward(g9);
      CHECK(allclose(y8.data(), corner(y9.data()), 0, 0));
      CHECK(allclose(v8.grad(), corner(v9.grad()), 0, 0));
    }
  }
  set_num_threads(threads);
}

TEST_CASE("vector activations, batched: streamed outputs equal plainly stored ones, bit for bit") {
  // Outputs of at least cpu::kStreamBytes (16 MiB) are written with non-temporal stores,
  // smaller ones plainly; each vector's value is its own, so a large tensor's result
  // sample by sample equals the result of that sample alone (plain stores). Blocks(4) on
  // 115×115 (rows at unaligned addresses, ragged edge blocks), channels with 115·115
  // positions, last_dim of 115: every kernel's unaligned heads and ragged tails; and on
  // 64×64 (every row 32-byte aligned: the 4×4 blocks' packets all streamed).
  Generator gen(74);
  for (const int64_t w : {115, 64}) {
    for (DType dt : {kFloat32, kFloat64}) {
      // 115: 4.2M float32 or 2.1M float64 elements, 16.9 MB; 64: 4.3M or 2.1M, 17.0 MB
      const int64_t n = 4, c = (dt == kFloat32 ? 80 : 40) * (w == 64 ? 13 : 4) / 4;
      const Tensor x = randn({n, c, w, w}, dt, &gen), g = randn({n, c, w, w}, dt, &gen);
      REQUIRE(x.nbytes() >= (size_t)(16 << 20));
      REQUIRE(x.nbytes() / n < (size_t)(16 << 20));
      const Variable sigma(full({1}, 0.8, kFloat64));
      for (const G& grouping : {G::blocks(4), G::channels(), G::last_dim()}) {
        // The probabilistic form's masks are drawn over the whole tensor, so only its
        // backward (dx = p·g, vector_scale) is compared.
        const std::vector<std::pair<std::string, std::function<Variable(const Variable&)>>> fns = {
            {"vec_gelu", [&](const Variable& v) { return vec_gelu(v, grouping); }},
            {"vec_erf", [&](const Variable& v) { return vec_erf(v, sigma, grouping); }},
            {"probabilistic_vec_gelu", [&](const Variable& v) {
               Generator pg(5);
               return probabilistic_vec_gelu(v, grouping, true, &pg);
             }}};
        for (const auto& [name, f] : fns) {
          INFO(name << " " << grouping.str() << " " << w << "x" << w << (dt == kFloat32 ? " float32" : " float64"));
          Variable xv(x, true);
          Variable y = f(xv);
          y.backward(g);
          for (int64_t i = 0; i < n; ++i) {
            Variable xi(x.select(0, i).unsqueeze(0).contiguous(), true);
            Variable yi = f(xi);
            yi.backward(g.select(0, i).unsqueeze(0).contiguous());
            if (name != "probabilistic_vec_gelu") CHECK(allclose(y.data().select(0, i).unsqueeze(0), yi.data(), 0, 0));
            CHECK(allclose(xv.grad().select(0, i).unsqueeze(0), xi.grad(), 0, 0));
          }
        }
      }
    }
  }
}

TEST_CASE("vector activations, batched: probabilistic VecGELU's masks are the scalar Philox draws") {
  // The kernel draws eight vectors' uniforms at once (philox4x32_w0_x8); vector v's mask
  // must be [u_v ≤ p_v] with u_v = philox_uniform(philox4x32(seed, offset + v).w[0]), the
  // draw the CUDA kernel makes. 27 vectors (not a multiple of eight), counters that cross
  // 2^32 (the counter's high word). Masks with |u − p| < 1e-12 are skipped (p's rounding).
  Generator xgen(32), gen(31);
  const Tensor x = randn({1, 3, 9, 10}, kFloat64, &xgen) * 0.7;  // p across (0, 1)
  gen.advance((uint64_t(1) << 32) - 13);
  const uint64_t seed = gen.seed(), offset = gen.offset();
  const VectorPlan plan(x.shape(), G::blocks(4), "test");
  const std::vector<double> y =
      probabilistic_vec_gelu(Variable(x), G::blocks(4), true, &gen).data().to_vector<double>();
  const std::vector<double> xv = x.to_vector<double>();
  int64_t kept = 0, checked = 0;
  for (int64_t v = 0; v < plan.count(); ++v) {
    const VectorPatch p = plan.patch(v);
    double r2 = 0;
    bool all_kept = true, all_zero = true;
    for (int64_t i = 0; i < p.rows; ++i)
      for (int64_t j = 0; j < p.cols; ++j) {
        const int64_t o = p.base + i * p.row_stride + j;
        r2 += xv[o] * xv[o];
        all_kept &= y[o] == xv[o];
        all_zero &= y[o] == 0.0;
      }
    REQUIRE((all_kept || all_zero));
    const double prob = special::gammainc_p(0.5 * (double)p.dim(), 0.5 * r2);
    const double u = philox_uniform(philox4x32(seed, offset + (uint64_t)v).w[0]);
    if (std::abs(u - prob) < 1e-12) continue;
    INFO("vector " << v << " u " << u << " p " << prob);
    CHECK(all_kept == (u <= prob));
    kept += all_kept;
    ++checked;
  }
  CHECK(checked >= 26);
  CHECK(kept > 0);
  CHECK(kept < checked);
}
