// Core tensor tests: views, broadcasting, elementwise ops, reductions, matmul,
// joining, factories, random numbers and the error messages of bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops.h"
#include "core/parallel.h"
#include "core/random.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;

static std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
static Tensor dt(std::vector<double> v, Shape s) { return from_vector(v, s); }


TEST_CASE("tensor: views share storage and never copy") {
  Tensor a = arange(12, kFloat64).view({3, 4});
  Tensor t = a.t();
  CHECK(t.shares_storage(a));
  CHECK(t.shape() == Shape{4, 3});
  CHECK(t.strides() == Shape{1, 4});
  CHECK_FALSE(t.is_contiguous());
  CHECK(vals(t.contiguous()) == std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  Tensor n = a.narrow(1, 1, 2);
  CHECK(vals(n) == std::vector<double>{1, 2, 5, 6, 9, 10});
  n.fill_(-1);  // writes through to a
  CHECK(vals(a.select(0, 0)) == std::vector<double>{0, -1, -1, 3});
  CHECK(vals(a.slice(1, 0, 4, 2)) == std::vector<double>{0, -1, 4, -1, 8, -1});
  CHECK(vals(a.slice(0, -1, 3)) == std::vector<double>{8, -1, -1, 11});
  CHECK(a.unsqueeze(0).shape() == Shape{1, 3, 4});
  CHECK(a.unsqueeze(-1).shape() == Shape{3, 4, 1});
  CHECK(a.unsqueeze(2).squeeze().shape() == Shape{3, 4});
  CHECK(a.permute({1, 0}).strides() == Shape{1, 4});
  Tensor e = dt({1, 2, 3}, {3, 1}).expand({3, 4});
  CHECK(e.strides() == Shape{1, 0});
  CHECK(vals(e) == std::vector<double>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  CHECK(e.expand({2, -1, -1}).shape() == Shape{2, 3, 4});
  // view of a transposed tensor needs a copy; reshape makes one.
  CHECK(error_of([&] { t.view({12}); }).find("view: cannot view a tensor of shape [4, 3]") == 0);
  Tensor r = t.reshape({12});
  CHECK_FALSE(r.shares_storage(a));
  CHECK(vals(r)[1] == 4);
  CHECK(a.reshape({2, -1}).shape() == Shape{2, 6});
  CHECK(a.reshape({2, -1}).shares_storage(a));
  CHECK(a.flatten().shape() == Shape{12});
  // splitting a dim of a non-contiguous tensor stays a view when each chunk is contiguous
  Tensor b = arange(24, kFloat64).view({2, 3, 4}).permute({1, 0, 2});  // [3, 2, 4]
  Tensor bv = b.view({3, 2, 2, 2});
  CHECK(bv.shares_storage(b));
  CHECK(vals(bv) == vals(b));
}

TEST_CASE("tensor: view and shape errors name the op and shapes") {
  Tensor a = zeros({2, 3});
  CHECK(error_of([&] { a.view({4, 2}); }) == "view: shape [4, 2] is invalid for input of size 6");
  CHECK(error_of([&] { a.reshape({-1, -1}); }) == "reshape: only one dimension can be -1 in [-1, -1]");
  CHECK(error_of([&] { a.expand({3, 3}); }) == "expand: cannot expand shape [2, 3] to [3, 3]");
  CHECK(error_of([&] { a.permute({0, 0}); }) == "permute: repeated dim 0 in [0, 0]");
  CHECK(error_of([&] { a.narrow(1, 2, 2); }) == "narrow: range [2, 4) out of bounds for dim 1 of shape [2, 3]");
  CHECK(error_of([&] { a.transpose(0, 2); }) == "transpose: dim 2 out of range for a tensor of rank 2");
  CHECK(error_of([&] { a.data<double>(); }) == "data: requested float64 pointer for a float32 tensor");
  CHECK(error_of([&] { a.item(); }) == "item: expected a one-element tensor, got shape [2, 3]");
}

TEST_CASE("ops: broadcasting elementwise arithmetic") {
  Tensor a = dt({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor col = dt({10, 20}, {2, 1});
  CHECK(vals(a + col) == std::vector<double>{11, 12, 13, 24, 25, 26});
  CHECK(vals(a - dt({1, 1, 1}, {3})) == std::vector<double>{0, 1, 2, 3, 4, 5});
  CHECK(vals(a * 2.0) == std::vector<double>{2, 4, 6, 8, 10, 12});
  CHECK(vals(a / col) == std::vector<double>{0.1, 0.2, 0.3, 0.2, 0.25, 0.3});
  CHECK(vals(1.0 - a) == std::vector<double>{0, -1, -2, -3, -4, -5});
  CHECK(vals(pow(a, 2.0)) == std::vector<double>{1, 4, 9, 16, 25, 36});
  CHECK(vals(pow(dt({2, 3}, {2}), dt({3, 2}, {2}))) == std::vector<double>{8, 9});
  CHECK(vals(clamp(a, 2, 4)) == std::vector<double>{2, 2, 3, 4, 4, 4});
  CHECK(vals(clamp(a, -INFINITY, 3)) == std::vector<double>{1, 2, 3, 3, 3, 3});
  CHECK(vals(maximum(a, dt({3}, {1}))) == std::vector<double>{3, 3, 3, 4, 5, 6});
  CHECK(vals(minimum(a, dt({3}, {1}))) == std::vector<double>{1, 2, 3, 3, 3, 3});
  CHECK(vals(gt(a, dt({3}, {1}))) == std::vector<double>{0, 0, 0, 1, 1, 1});
  CHECK(vals(le(a, dt({3}, {1}))) == std::vector<double>{1, 1, 1, 0, 0, 0});
  CHECK(vals(eq(a, dt({2}, {1}))) == std::vector<double>{0, 1, 0, 0, 0, 0});
  CHECK(vals(ne(a, dt({2}, {1}))) == std::vector<double>{1, 0, 1, 1, 1, 1});
  CHECK(vals(where(gt(a, dt({3}, {1})), a, dt({0}, {1}))) == std::vector<double>{0, 0, 0, 4, 5, 6});
  CHECK(vals(abs(dt({-1.5, 2}, {2}))) == std::vector<double>{1.5, 2});
  CHECK(vals(neg(dt({-1.5, 2}, {2}))) == std::vector<double>{1.5, -2});
  CHECK(vals(sqrt(dt({4, 9}, {2}))) == std::vector<double>{2, 3});
  CHECK(vals(exp(dt({0}, {1})))[0] == 1);
  CHECK(vals(log(dt({1}, {1})))[0] == 0);
  // NaN propagates through maximum as in torch
  CHECK(std::isnan(vals(maximum(dt({NAN}, {1}), dt({1}, {1})))[0]));
  // operands on strided views: a transposed operand
  Tensor m = arange(6, kFloat64).view({2, 3});
  CHECK(vals(m.t() + m.t()) == std::vector<double>{0, 6, 2, 8, 4, 10});
}

TEST_CASE("ops: a large elementwise op matches a serial reference, at any thread count") {
  Tensor x = randn({257, 1031}, kFloat32);
  Tensor y = randn({1031}, kFloat32);
  auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto z = (x * y).to_vector<float>();
    for (int64_t i = 0; i < 257; ++i)
      for (int64_t j = 0; j < 1031; ++j) REQUIRE(z[i * 1031 + j] == xv[i * 1031 + j] * yv[j]);
  }
}

TEST_CASE("ops: int64 comparisons and sums make accuracy one line on tensors") {
  const Tensor logits = tensor({0.1, 0.9, 0.8, 0.2, 0.3, 0.7}).view({3, 2});  // argmax per row: 1, 0, 1
  const Tensor target = from_vector(std::vector<int64_t>{1, 1, 1}, {3});
  const Tensor hits = ops::eq(ops::argmax(logits, 1), target);
  CHECK(hits.dtype() == kInt64);
  CHECK(hits.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  const Tensor correct = ops::sum(hits);
  CHECK(correct.dtype() == kInt64);
  CHECK(correct.item() == 2);
  CHECK(ops::ne(ops::argmax(logits, 1), target).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
  // Beyond float32's 24 bits, still exact (through float64).
  const int64_t big = (int64_t(1) << 40) + 1;
  const Tensor b = from_vector(std::vector<int64_t>{big, big - 1}, {2});
  CHECK(ops::sum(b).to_vector<int64_t>() == std::vector<int64_t>{2 * big - 1});
  CHECK(ops::gt(b, ops::sum(b, {}, true).narrow(0, 0, 1)).to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  CHECK(ops::ge(b.narrow(0, 0, 1), b.narrow(0, 1, 1)).to_vector<int64_t>() == std::vector<int64_t>{1});
  CHECK(ops::lt(b.narrow(0, 0, 1), b.narrow(0, 1, 1)).to_vector<int64_t>() == std::vector<int64_t>{0});
}

TEST_CASE("ops: mismatched shapes, dtypes and devices are errors that name them") {
  Tensor a = zeros({2, 3}), b = zeros({4}), d = zeros({2, 3}, kFloat64);
  CHECK(error_of([&] { add(a, b); }) == "add: shapes [2, 3] and [4] cannot be broadcast together");
  CHECK(error_of([&] { mul(a, d); }) == "mul: dtype mismatch: float32 and float64 (convert one with .to(dtype))");
  CHECK(error_of([&] { matmul(a, a); }) == "matmul: inner dimensions differ: [2, 3] @ [2, 3]");
  CHECK(error_of([&] { exp(zeros({2}, kInt64)); }) == "exp: expected a float32 or float64 tensor, got int64");
  CHECK(error_of([&] { sum(a, {2}); }) == "sum: dim 2 out of range for a tensor of rank 2");
  CHECK(error_of([&] { concat({a, zeros({2, 3}, kFloat64)}, 0); }) == "concat: dtype mismatch: float32 and float64");
  CHECK(error_of([&] { concat({a, zeros({3, 3})}, 1); }) == "concat: shapes [2, 3] and [3, 3] differ outside dim 1");
  CHECK(error_of([&] { stack({a, b}, 0); }) == "stack: shapes differ: [2, 3] and [4]");
  CHECK(error_of([&] { clamp(a, 2, 1); }) == "clamp: lower bound 2 exceeds upper bound 1");
  CHECK(error_of([&] { var(zeros({1}), {}); }) == "var: 1 elements are too few for correction 1 (shape [1])");
  // A CUDA device in a CPU-only build (or without a GPU) is an error, never a fallback.
  std::string e = error_of([&] { a.to(Device::cuda(0)); });
  CHECK(e.find("cuda:0 requested") != std::string::npos);
  CHECK((e.find("no CUDA backend") != std::string::npos || e.find("no CUDA device") != std::string::npos));
}

TEST_CASE("ops: reductions along dims with keepdim") {
  Tensor a = dt({1, 5, 3, 4, 2, 6}, {2, 3});
  CHECK(vals(sum(a)) == std::vector<double>{21});
  CHECK(sum(a).dim() == 0);
  CHECK(vals(sum(a, {0})) == std::vector<double>{5, 7, 9});
  CHECK(sum(a, {1}, true).shape() == Shape{2, 1});
  CHECK(vals(sum(a, {-1})) == std::vector<double>{9, 12});
  CHECK(vals(mean(a, {1})) == std::vector<double>{3, 4});
  CHECK(vals(max(a, 1)) == std::vector<double>{5, 6});
  CHECK(vals(min(a, 0)) == std::vector<double>{1, 2, 3});
  CHECK(argmax(a, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 2});
  CHECK(argmax(a, 0, true).shape() == Shape{1, 3});
  CHECK(max(a).item() == 6);
  // var: torch.var([[1,5,3],[4,2,6]], dim=1) = [4, 4]; unbiased over all = 3.5
  CHECK(vals(var(a, {1})) == std::vector<double>{4, 4});
  CHECK(var(a).item() == doctest::Approx(3.5));
  CHECK(var(a, {}, 0).item() == doctest::Approx(35.0 / 12.0));
  // reductions over several dims of a permuted view
  Tensor b = arange(24, kFloat64).view({2, 3, 4}).permute({2, 0, 1});
  CHECK(vals(sum(b, {1, 2})) == std::vector<double>{60, 66, 72, 78});
  // a long reduction split across threads equals the closed form
  Tensor r = arange(1 << 20, kFloat64);
  CHECK(sum(r).item() == (double)(1 << 20) * ((1 << 20) - 1) / 2);
  CHECK(sum_to(ones({4, 2, 3}), {2, 1}).to_vector<float>() == std::vector<float>{12, 12});
}

TEST_CASE("ops: matmul 1-D, 2-D, batched with broadcasting and transposed operands") {
  Tensor a = dt({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = dt({7, 8, 9, 10, 11, 12}, {3, 2});
  CHECK(vals(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
  CHECK(vals(matmul(b.t(), a.t())) == std::vector<double>{58, 139, 64, 154});
  CHECK(vals(matmul(dt({1, 2, 3}, {3}), dt({4, 5, 6}, {3}))) == std::vector<double>{32});
  CHECK(vals(matmul(a, dt({1, 0, 1}, {3}))) == std::vector<double>{4, 10});
  CHECK(vals(matmul(dt({1, 1}, {2}), a)) == std::vector<double>{5, 7, 9});
  Tensor batch = stack({a, a * 2.0}, 0);  // [2, 2, 3]
  Tensor out = matmul(batch, b);           // b broadcast over the batch
  CHECK(out.shape() == Shape{2, 2, 2});
  CHECK(vals(out) == std::vector<double>{58, 64, 139, 154, 116, 128, 278, 308});
  // float32 GEMM against a naive triple loop
  Tensor x = randn({65, 33}), y = randn({33, 17});
  auto z = matmul(x, y).to_vector<float>();
  auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
  for (int i = 0; i < 65; ++i)
    for (int j = 0; j < 17; ++j) {
      double s = 0;
      for (int k = 0; k < 33; ++k) s += (double)xv[i * 33 + k] * yv[k * 17 + j];
      REQUIRE(z[i * 17 + j] == doctest::Approx(s).epsilon(1e-4));
    }
}

TEST_CASE("ops: concat, stack, gather, scatter_add") {
  Tensor a = dt({1, 2, 3, 4}, {2, 2}), b = dt({5, 6}, {1, 2});
  CHECK(vals(concat({a, b}, 0)) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(vals(concat({a, a}, 1)) == std::vector<double>{1, 2, 1, 2, 3, 4, 3, 4});
  CHECK(stack({a, a}, 2).shape() == Shape{2, 2, 2});
  CHECK(vals(stack({a, a}, 2)) == std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4});
  Tensor idx = from_vector(std::vector<int64_t>{1, 0}, {2, 1});
  CHECK(vals(gather(a, 1, idx)) == std::vector<double>{2, 3});
  CHECK(vals(scatter_add({2, 3}, 1, from_vector(std::vector<int64_t>{2, 2, 0, 1}, {2, 2}), a)) ==
        std::vector<double>{0, 0, 3, 3, 4, 0});
  CHECK(error_of([&] { gather(a, 1, from_vector(std::vector<int64_t>{5, 0}, {2, 1})); }) ==
        "gather: index 5 out of range for dim 1 of size 2");
  CHECK(error_of([&] { gather(a, 1, a); }) == "gather: index must be int64, got float64");
}

TEST_CASE("tensor: factories, conversions and copies") {
  CHECK(vals(arange(0, 1, 0.25)) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(vals(full({2}, 7.5, kFloat64)) == std::vector<double>{7.5, 7.5});
  CHECK(zeros({2, 3}).nbytes() == 24);
  Tensor f = tensor({1.5, -2.25}, kFloat32);
  CHECK(f.dtype() == kFloat32);
  CHECK(f.to(kFloat64).dtype() == kFloat64);
  CHECK(vals(f.to(kFloat64)) == std::vector<double>{1.5, -2.25});
  CHECK(f.to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{1, -2});
  Tensor c = f.clone();
  c.fill_(0);
  CHECK(vals(f)[0] == 1.5);
  Tensor g = zeros({2, 2});
  g.copy_(tensor({1, 2}));  // broadcasts
  CHECK(vals(g) == std::vector<double>{1, 2, 1, 2});
  g.add_(ones({2, 2}), 2.0);
  CHECK(vals(g) == std::vector<double>{3, 4, 3, 4});
  CHECK(error_of([&] { from_vector(std::vector<float>{1, 2, 3}, {2, 2}); }) ==
        "from_vector: 3 values do not fill shape [2, 2]");
}

TEST_CASE("random: reproducible, thread-count independent, correct moments") {
  Generator g1(42), g2(42);
  set_num_threads(1);
  Tensor a = randn({100000}, kFloat64, &g1);
  set_num_threads(2);
  Tensor b = randn({100000}, kFloat64, &g2);
  CHECK(vals(a) == vals(b));
  CHECK(g1.offset() == 100000);
  Tensor c = randn({100000}, kFloat64, &g1);  // the stream moves on
  CHECK(vals(c) != vals(a));
  // N(0,1): mean within 4σ/√n, variance within 4·√(2/n)
  const double n = 100000;
  CHECK(std::abs(mean(a).item()) < 4 / std::sqrt(n));
  CHECK(std::abs(var(a).item() - 1) < 4 * std::sqrt(2 / n));
  Tensor u = rand({100000}, kFloat64, &g1);
  CHECK(std::abs(mean(u).item() - 0.5) < 4 * std::sqrt(1.0 / 12 / n));
  CHECK(max(u).item() <= 1.0);
  CHECK(-max(neg(u)).item() > 0.0);
  Tensor p = full({1000000}, 0.3, kFloat64);
  const double freq = mean(bernoulli(p, &g1)).item();
  CHECK(std::abs(freq - 0.3) < 4 * std::sqrt(0.3 * 0.7 / 1e6));
  auto perm = randperm(1000, &g1).to_vector<int64_t>();
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) CHECK(sorted[i] == i);
  CHECK(perm != sorted);
  // Philox4x32-10 known-answer (Random123 test vector: counter 0, key 0).
  uint32_t w[4];
  philox(0, 0, w);
  CHECK(w[0] == 0x6627e8d5u);
  CHECK(w[1] == 0xe169c58du);
  CHECK(w[2] == 0xbc57ac4cu);
  CHECK(w[3] == 0x9b00dbd8u);
}
