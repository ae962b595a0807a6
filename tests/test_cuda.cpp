// The CUDA backend. Tests that need a GPU compare it with the CPU backend (the
// oracle) on the same data and seeds, and skip with one "no CUDA device" line
// where there is none. The tests at the top run everywhere.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/functions.h"
#include "core/backend.h"
#include "core/philox.h"
#include "core/cuda_api.h"
#include "core/ops.h"
#include "core/random.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "tests/cuda_parity.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;


TEST_CASE("cuda: asking for a CUDA device without one is an error that says why") {
  const std::string msg = error_of([] { zeros({2}, kFloat32, Device::cuda()); });
  const std::string stats = error_of([] { cuda_memory_stats(0); });
  if (!cuda_compiled()) {
    CHECK(msg.find("has no CUDA backend") != std::string::npos);
    CHECK(msg.find("cuda:0") != std::string::npos);
    CHECK(stats.find("has no CUDA backend") != std::string::npos);
  } else if (cuda_device_count() == 0) {
    CHECK(msg.find("no CUDA device is present") != std::string::npos);
    CHECK(stats.find("no CUDA device is present") != std::string::npos);
  } else {
    const int n = cuda_device_count();
    const std::string past = error_of([n] { zeros({2}, kFloat32, Device::cuda(n)); });
    CHECK(past.find("CUDA device(s) exist") != std::string::npos);
    CHECK(msg == "no error");
  }
}

TEST_CASE("philox: the host/device generator's bits-to-uniform map is (bits + 1) / 2^32") {
  // The block function itself is checked against the Random123 known-answer vector in
  // test_tensor.cpp; CPU and GPU share core/philox.h.
  CHECK(philox_uniform(0xffffffffu) == 1.0);
  CHECK(philox_uniform(0) == 1.0 / 4294967296.0);
  CHECK(philox_uniform(1u << 31) == (double)((1u << 31) + 1u) / 4294967296.0);
}

TEST_CASE("cuda: set_allow_tf32 is off by default and toggles") {
  CHECK_FALSE(allow_tf32());
  set_allow_tf32(true);
  CHECK(allow_tf32());
  set_allow_tf32(false);
  CHECK_FALSE(allow_tf32());
}

TEST_CASE("cuda parity") {
  if (!have_gpu()) return;

  SUBCASE("copies and conversions") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor c = data({5, 7}, dt, 1, true);
      Tensor g = gpu(c);
      CHECK(g.device() == Device::cuda());
      check_parity(g, c, "round trip");
      check_parity(gpu(c.t()), c.t().contiguous(), "strided host -> device");
      check_parity(g.t().contiguous(), c.t().contiguous(), "strided device -> device");
      CHECK(allclose(g.t().cpu(), c.t(), 0, 0, true));  // strided device -> host
      check_parity(g.to(kFloat64), c.to(kFloat64), "convert to float64");
      check_parity(g.to(kFloat32), c.to(kFloat32), "convert to float32");
      // into a strided device view, from host and from device, with conversion
      Tensor dst = zeros({7, 5}, kFloat64, Device::cuda());
      dst.t().copy_(c);
      check_parity(dst, c.to(kFloat64).t().contiguous(), "host -> strided device view");
      Tensor host = zeros({7, 5}, kFloat64);
      host.t().copy_(g);
      CHECK(allclose(host, c.to(kFloat64).t().contiguous(), 0, 0, true));  // device -> strided host view
      // broadcast source
      Tensor row = data({7}, dt, 2);
      Tensor b = empty({3, 7}, dt, Device::cuda());
      b.copy_(gpu(row));
      check_parity(b, row.expand({3, 7}).contiguous(), "broadcast copy");
    }
    Tensor f = tensor({2.7, -2.7, 0.5, 1e6}, kFloat32);
    CHECK(gpu(f).to(kInt64).cpu().to_vector<int64_t>() == std::vector<int64_t>{2, -2, 0, 1000000});
    Tensor i = from_vector(std::vector<int64_t>{-3, 0, 1ll << 40}, {3});
    CHECK(gpu(i).cpu().to_vector<int64_t>() == i.to_vector<int64_t>());
    CHECK(gpu(i).to(kFloat64).cpu().to_vector<double>() == std::vector<double>{-3, 0, (double)(1ll << 40)});
    CHECK(sum(gpu(f)).item() == doctest::Approx(1e6));
  }

  SUBCASE("fill") {
    Tensor g = full({4, 6}, 2.5, kFloat64, Device::cuda());
    g.narrow(1, 1, 2).fill_(-1);
    Tensor c = full({4, 6}, 2.5, kFloat64);
    c.narrow(1, 1, 2).fill_(-1);
    check_parity(g, c, "fill");
    CHECK(zeros({3}, kInt64, Device::cuda()).cpu().to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  }

  SUBCASE("unary ops, non-finite values included") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor c = data({6, 9}, dt, 3, true);
      Tensor g = gpu(c);
      // strided input: the transpose
      check_parity(neg(g.t()), neg(c.t()), "neg");
      check_parity(exp(g), exp(c), "exp");
      check_parity(log(g), log(c), "log");
      check_parity(sqrt(g), sqrt(c), "sqrt");
      check_parity(abs(g), abs(c), "abs");
      check_parity(sign(g), sign(c), "sign");
      check_parity(square(g), square(c), "square");
      check_parity(reciprocal(g), reciprocal(c), "reciprocal");
      check_parity(clamp(g, -0.5, 0.7), clamp(c, -0.5, 0.7), "clamp");
      check_parity(pow(g, 2.0), pow(c, 2.0), "pow 2");
      check_parity(pow(g, 1.5), pow(c, 1.5), "pow 1.5");
      check_parity(add(g, 3.0), add(c, 3.0), "add scalar");
      check_parity(mul(g.t(), -2.0), mul(c.t(), -2.0), "mul scalar");
      check_parity(rsub(g, 1.0), rsub(c, 1.0), "rsub");
    }
  }

  SUBCASE("binary ops and where, with broadcasting") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor a = data({4, 1, 5}, dt, 4, true), b = data({3, 1}, dt, 5);
      Tensor ga = gpu(a), gb = gpu(b);
      check_parity(add(ga, gb), add(a, b), "add");
      check_parity(sub(ga, gb), sub(a, b), "sub");
      check_parity(mul(ga, gb), mul(a, b), "mul");
      check_parity(div(ga, gb), div(a, b), "div");
      check_parity(pow(abs(ga), gb), pow(abs(a), b), "pow");
      check_parity(pow(ga, gb), pow(a, b), "pow of negatives (NaN)");
      check_parity(maximum(ga, gb), maximum(a, b), "maximum");
      check_parity(minimum(ga, gb), minimum(a, b), "minimum");
      check_parity(eq(ga, ga), eq(a, a), "eq (NaN != NaN)");
      check_parity(ne(ga, gb), ne(a, b), "ne");
      check_parity(lt(ga, gb), lt(a, b), "lt");
      check_parity(le(ga, gb), le(a, b), "le");
      check_parity(gt(ga, gb), gt(a, b), "gt");
      check_parity(ge(ga, gb), ge(a, b), "ge");
      check_parity(div(ga, zeros({1}, dt, Device::cuda())), div(a, zeros({1}, dt)), "division by zero");
      Tensor cond = data({4, 3, 1}, dt, 6);
      check_parity(where(gt(gpu(cond), zeros({1}, dt, Device::cuda())), ga, gb),
                   where(gt(cond, zeros({1}, dt)), a, b), "where");
      Tensor acc = gpu(b).expand({3, 5}).contiguous();
      acc.add_(gpu(a).select(0, 1), 0.5);
      check_parity(acc, add(b.expand({3, 5}), mul(a.select(0, 1), 0.5)), "add_ with alpha");
    }
  }

  SUBCASE("reductions") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor c = data({5, 6, 7}, dt, 7);
      Tensor g = gpu(c);
      for (const std::vector<int64_t>& dims :
           std::vector<std::vector<int64_t>>{{}, {0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1}}) {
        check_parity(sum(g, dims), sum(c, dims), "sum over " + shape_str(dims), 16, 100);
        check_parity(mean(g, dims, true), mean(c, dims, true), "mean over " + shape_str(dims), 16, 1);
      }
      check_parity(sum(g.permute({2, 0, 1}), {1}), sum(c.permute({2, 0, 1}), {1}), "sum of a permuted view", 16, 100);
      check_parity(var(g, {1}), var(c, {1}), "var", 64, 1);
      for (int64_t d : {0, 1, 2}) {
        check_parity(max(g, d), max(c, d), "max");
        check_parity(min(g, d), min(c, d), "min");
        CHECK(argmax(g, d).cpu().to_vector<int64_t>() == argmax(c, d).to_vector<int64_t>());
      }
      check_parity(max(g), max(c), "max of all");
      // Long rows and long columns take the split (two-pass) paths. Both sides sum in
      // double: float32 results agree to an ulp; float64 ones to the summation order's
      // error, a small multiple of eps * sum |x| (about 0.8 per element here).
      Tensor rows = data({3, 300000}, dt, 8), cols = data({300000, 3}, dt, 9);
      const double order = dt == kFloat64 ? 1e6 : 1000;
      check_parity(sum(gpu(rows), {1}), sum(rows, {1}), "long rows", 64, order);
      check_parity(sum(gpu(cols), {0}), sum(cols, {0}), "long columns", 64, order);
      check_parity(sum(gpu(rows)), sum(rows), "everything", 64, 3 * order);
      CHECK(argmax(gpu(rows), 1).cpu().to_vector<int64_t>() == argmax(rows, 1).to_vector<int64_t>());
      CHECK(argmax(gpu(cols), 0).cpu().to_vector<int64_t>() == argmax(cols, 0).to_vector<int64_t>());
    }
    // Ties go to the first index, the first NaN wins, -inf everywhere gives index 0.
    Tensor t = from_vector(std::vector<double>{1, 3, 3, 0, kNaN, 2, kNaN, 5, -kInf, -kInf, -kInf, -kInf}, {3, 4});
    CHECK(argmax(gpu(t), 1).cpu().to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
    CHECK(argmax(gpu(t), 1).cpu().to_vector<int64_t>() == argmax(t, 1).to_vector<int64_t>());
    check_parity(max(gpu(t), 1), max(t, 1), "max with NaN and -inf");
    // The same across the chunks of the split paths (ties at 100 and 3000).
    Tensor wide = zeros({2, 5000}, kFloat64);
    wide.narrow(1, 100, 1).fill_(7);
    wide.narrow(1, 3000, 1).fill_(7);
    CHECK(argmax(gpu(wide), 1).cpu().to_vector<int64_t>() == std::vector<int64_t>{100, 100});
    CHECK(argmax(gpu(wide.t().contiguous()), 0).cpu().to_vector<int64_t>() == std::vector<int64_t>{100, 100});
    wide.select(0, 0).narrow(0, 4500, 1).fill_(kNaN);
    wide.select(0, 0).narrow(0, 4000, 1).fill_(kNaN);
    CHECK(argmax(gpu(wide), 1).cpu().to_vector<int64_t>() == std::vector<int64_t>{4000, 100});
    CHECK(argmax(gpu(wide.t().contiguous()), 0).cpu().to_vector<int64_t>() == std::vector<int64_t>{4000, 100});
    check_parity(sum(gpu(wide), {1}), sum(wide, {1}), "sum with NaN");
    CHECK(sum(zeros({3, 0}, kFloat32, Device::cuda()), {1}).cpu().to_vector<float>() == std::vector<float>{0, 0, 0});
  }

  SUBCASE("matmul: 2-D, transposed, batched, broadcast") {
    for (DType dt : {kFloat32, kFloat64}) {
      const double k = dt == kFloat32 ? 64 : 64;
      Tensor a = data({33, 17}, dt, 10), b = data({17, 9}, dt, 11);
      Tensor ga = gpu(a), gb = gpu(b);
      check_parity(matmul(ga, gb), matmul(a, b), "2-D", k, 10);
      check_parity(matmul(gb.t(), ga.t()), matmul(b.t(), a.t()), "both transposed", k, 10);
      Tensor at = data({17, 33}, dt, 12);
      check_parity(matmul(gpu(at).t(), gb), matmul(at.t(), b), "a transposed", k, 10);
      Tensor x = data({4, 3, 5}, dt, 13), y = data({4, 5, 2}, dt, 14);
      check_parity(matmul(gpu(x), gpu(y)), matmul(x, y), "batched", k, 10);
      check_parity(matmul(gpu(x), gpu(y).transpose(1, 2).contiguous().transpose(1, 2)), matmul(x, y),
                   "batched, b column-major", k, 10);
      Tensor p = data({2, 1, 3, 4}, dt, 15), q = data({5, 4, 6}, dt, 16);
      check_parity(matmul(gpu(p), gpu(q)), matmul(p, q), "broadcast batch", k, 10);
      check_parity(matmul(gpu(x), gpu(data({5, 2}, dt, 17))), matmul(x, data({5, 2}, dt, 17)), "batch x matrix", k,
                   10);
      Tensor v = data({17}, dt, 18);
      check_parity(matmul(gpu(v), gpu(v)), matmul(v, v), "dot", k, 10);
      check_parity(matmul(gpu(v), gb), matmul(v, b), "vector x matrix", k, 10);
      check_parity(matmul(ga, gpu(v)), matmul(a, v), "matrix x vector", k, 10);
      check_parity(matmul(zeros({3, 0}, dt, Device::cuda()), zeros({0, 4}, dt, Device::cuda())),
                   zeros({3, 4}, dt), "K = 0");
    }
  }

  SUBCASE("matmul float32 is full precision unless TF32 is allowed") {
    Tensor a = data({512, 512}, kFloat64, 19), b = data({512, 512}, kFloat64, 20);
    Tensor ref = matmul(a, b);
    auto rel_err = [&](const Tensor& g) {
      Tensor d = sub(g.cpu().to(kFloat64), ref);
      return std::sqrt(sum(square(d)).item() / sum(square(ref)).item());
    };
    Tensor ga = gpu(a.to(kFloat32)), gb = gpu(b.to(kFloat32));
    const double full = rel_err(matmul(ga, gb));
    set_allow_tf32(true);
    const double tf32 = rel_err(matmul(ga, gb));
    set_allow_tf32(false);
    CHECK(full < 1e-5);
    CHECK(tf32 > 5e-5);  // TF32 keeps 10 mantissa bits: errors near 2e-4
    CHECK(tf32 < 3e-3);
  }

  SUBCASE("gather and scatter_add") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor x = data({4, 6, 5}, dt, 21);
      Generator g(22);
      Tensor idx = mul(rand({4, 3, 5}, kFloat64, &g), 5.999).to(kInt64);  // in [0, 6)
      check_parity(gather(gpu(x), 1, gpu(idx)), gather(x, 1, idx), "gather dim 1");
      check_parity(gather(gpu(x).transpose(0, 2), 1, gpu(idx).transpose(0, 2).contiguous()),
                   gather(x.transpose(0, 2), 1, idx.transpose(0, 2).contiguous()), "gather strided");
      // many colliding indices: atomic adds must lose nothing
      Tensor src = data({4, 3, 5}, dt, 23);
      check_parity(scatter_add({4, 6, 5}, 1, gpu(idx), gpu(src)), scatter_add({4, 6, 5}, 1, idx, src),
                   "scatter_add", 16, 1);
      Tensor all_same = zeros({1, 20000}, kInt64);
      Tensor ones_src = ones({1, 20000}, dt);
      CHECK(scatter_add({1, 3}, 1, gpu(all_same), gpu(ones_src)).cpu().to_vector<double>() ==
            std::vector<double>{20000, 0, 0});
    }
    // A bad index is reported at the next point where the host waits for the device.
    Tensor x = gpu(data({2, 3}, kFloat32, 24));
    Tensor bad = gpu(from_vector(std::vector<int64_t>{0, 5, 1, 2}, {2, 2}));
    const std::string msg = error_of([&] { gather(x, 1, bad).cpu(); });
    CHECK(msg.find("gather: index 5 out of range for a dim of size 3") != std::string::npos);
    const std::string msg2 = error_of([&] {
      scatter_add({2, 3}, 1, gpu(from_vector(std::vector<int64_t>{-1, 0}, {2, 1})), gpu(ones({2, 1})));
      cuda_synchronize();
    });
    CHECK(msg2.find("scatter_add: index -1 out of range") != std::string::npos);
    CHECK(error_of([] { cuda_synchronize(); }) == "no error");  // reported once
  }

  SUBCASE("random numbers: the same bits as the CPU for the same seed") {
    for (DType dt : {kFloat32, kFloat64}) {
      Tensor c = empty({1000, 37}, dt), g = empty({1000, 37}, dt, Device::cuda());
      rand_uniform_stub(Device::cpu(), "test", c, 42, 1000, 0.0, 1.0);
      rand_uniform_stub(Device::cuda(), "test", g, 42, 1000, 0.0, 1.0);
      CHECK(allclose(g.cpu(), c, 0, 0));  // bit-identical
      // The affine map is one rounding (FMA) on both sides when the CPU build contracts
      // it, two otherwise: allow one rounding's difference.
      rand_uniform_stub(Device::cpu(), "test", c, 42, 1000, -2.0, 3.0);
      rand_uniform_stub(Device::cuda(), "test", g, 42, 1000, -2.0, 3.0);
      check_parity(g, c, "uniform(-2, 3)", 2, 3);
      rand_normal_stub(Device::cpu(), "test", c, 7, 5, 1.5, 2.0);
      rand_normal_stub(Device::cuda(), "test", g, 7, 5, 1.5, 2.0);
      check_parity(g, c, "normal", 64, 1);  // libm's log/cos and CUDA's may differ by an ulp
      // into a transposed view: element i is still row-major over the view
      Tensor ct = empty({37, 1000}, dt), gt_ = empty({37, 1000}, dt, Device::cuda());
      rand_uniform_stub(Device::cpu(), "test", ct.t(), 9, 0, 0.0, 1.0);
      rand_uniform_stub(Device::cuda(), "test", gt_.t(), 9, 0, 0.0, 1.0);
      CHECK(allclose(gt_.cpu(), ct, 0, 0));
      Generator g1(77), g2(77);
      Tensor p = rand({300, 7}, dt, &g1);
      g2.set_state(g1.seed(), g1.offset());
      Tensor bc = bernoulli(p, &g1), bg = bernoulli(gpu(p), &g2);
      CHECK(allclose(bg.cpu(), bc, 0, 0));
      CHECK(g1.offset() == g2.offset());
    }
  }

  SUBCASE("caching allocator: no device allocation in steady state") {
    Tensor w = gpu(data({64, 64}, kFloat32, 25));
    auto step = [&] {
      Tensor x = gpu(data({32, 64}, kFloat32, 26));
      Tensor y = sum(square(matmul(x, w)), {1});
      return y.cpu();
    };
    step();
    const CudaMemoryStats before = cuda_memory_stats();
    for (int i = 0; i < 20; ++i) step();
    const CudaMemoryStats after = cuda_memory_stats();
    CHECK(after.device_allocs == before.device_allocs);
    CHECK(after.in_use_bytes == before.in_use_bytes);
    CHECK(after.cached_bytes > 0);
    CHECK(after.in_use_bytes >= 64 * 64 * 4);
    cuda_empty_cache();
    CHECK(cuda_memory_stats().cached_bytes == 0);
    CHECK(cuda_memory_stats().device_frees > before.device_frees);
  }

  SUBCASE("a small MLP trains the same on GPU as on CPU (20 SGD steps)") {
    // Linear -> ReLU (as clamp; its kink at 0 is not hit by continuous data) -> Linear, MSE.
    auto run = [](Device dev) {
      manual_seed(1234);
      Linear l1(8, 16, true, kFloat64), l2(16, 1, true, kFloat64);
      l1.to(dev);
      l2.to(dev);
      Generator g(99);
      Tensor x = randn({32, 8}, kFloat64, &g).to(dev), y = randn({32, 1}, kFloat64, &g).to(dev);
      std::vector<double> losses;
      for (int step = 0; step < 20; ++step) {
        Variable loss = mse_loss(l2(clamp(l1(Variable(x)), 0.0, kInf)), Variable(y));
        for (Linear* l : {&l1, &l2}) l->zero_grad();
        loss.backward();
        losses.push_back(loss.item());
        for (Linear* l : {&l1, &l2})
          for (Variable& p : l->parameters()) p.data().add_(p.grad(), -0.1);
      }
      return losses;
    };
    const auto c = run(Device::cpu()), g = run(Device::cuda());
    REQUIRE(c.size() == g.size());
    CHECK(c.back() < c.front());  // it trains
    for (size_t i = 0; i < c.size(); ++i) CHECK(g[i] == doctest::Approx(c[i]).epsilon(1e-9));
  }
}
