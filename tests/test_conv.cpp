#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "core/cpu/winograd.h"
#include "core/random.h"
#include "layers/conv.h"
#include "layers/flatten.h"

using namespace tg;
using namespace tg::ops;

namespace {

struct ConvCase {
  Shape x, w;
  Int2 stride, padding, dilation;
  int64_t groups;
};

// Direct-loop convolution in double, the reference for the im2col + GEMM kernels.
// Also returns the adjoint: grad_x and grad_weight for an upstream gradient gy.
struct Naive {
  const ConvCase& c;
  int64_t N, C, H, W, O, KH, KW, OH, OW, Cg, Og;
  explicit Naive(const ConvCase& cc) : c(cc) {
    N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3], O = c.w[0], KH = c.w[2], KW = c.w[3];
    OH = (H + 2 * c.padding.h - c.dilation.h * (KH - 1) - 1) / c.stride.h + 1;
    OW = (W + 2 * c.padding.w - c.dilation.w * (KW - 1) - 1) / c.stride.w + 1;
    Cg = C / c.groups, Og = O / c.groups;
  }
  // f(n, o, oh, ow, ci, i, j, x index, w index) for every tap that lands inside the input.
  template <class F>
  void taps(F f) const {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow)
            for (int64_t ci = 0; ci < Cg; ++ci)
              for (int64_t i = 0; i < KH; ++i)
                for (int64_t j = 0; j < KW; ++j) {
                  const int64_t ih = oh * c.stride.h - c.padding.h + i * c.dilation.h;
                  const int64_t iw = ow * c.stride.w - c.padding.w + j * c.dilation.w;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  const int64_t cin = (o / Og) * Cg + ci;
                  f(((n * O + o) * OH + oh) * OW + ow, ((n * C + cin) * H + ih) * W + iw, ((o * Cg + ci) * KH + i) * KW + j);
                }
  }
  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>& b) const {
    std::vector<double> y(N * O * OH * OW, 0.0);
    for (int64_t k = 0; k < (int64_t)y.size(); ++k) y[k] = b.empty() ? 0 : b[(k / (OH * OW)) % O];
    taps([&](int64_t yi, int64_t xi, int64_t wi) { y[yi] += x[xi] * w[wi]; });
    return y;
  }
  void backward(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& gy,
                std::vector<double>& gx, std::vector<double>& gw) const {
    gx.assign(x.size(), 0.0);
    gw.assign(w.size(), 0.0);
    taps([&](int64_t yi, int64_t xi, int64_t wi) {
      gx[xi] += gy[yi] * w[wi];
      gw[wi] += gy[yi] * x[xi];
    });
  }
};

// The CPU kernels' view of a case, to ask which path takes it.
ConvGeometry geometry(const ConvCase& c) {
  const Naive r(c);
  return {r.N, r.C, r.H, r.W, r.O, r.KH, r.KW, r.OH, r.OW, c.stride.h, c.stride.w, c.padding.h, c.padding.w,
          c.dilation.h, c.dilation.w, c.groups};
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

const std::vector<ConvCase> kCases = {
    {{2, 3, 7, 6}, {4, 3, 3, 3}, 1, 1, 1, 1},                  // odd sizes, same padding
    {{1, 4, 9, 8}, {6, 2, 3, 2}, {2, 1}, {1, 2}, {1, 2}, 2},  // batch 1, groups, mixed stride/pad/dilation
    {{3, 6, 5, 5}, {6, 1, 3, 3}, 2, 1, 1, 6},                  // depthwise, stride 2
    {{2, 5, 4, 6}, {3, 5, 1, 1}, 1, 0, 1, 1},                  // 1×1 stride 1 unpadded: no im2col
    {{2, 4, 5, 5}, {2, 4, 1, 1}, 2, 1, 1, 1},                  // 1×1 strided and padded: im2col
    {{2, 3, 6, 7}, {2, 3, 2, 3}, {1, 2}, 0, {2, 1}, 1},        // dilation without padding
    {{4, 64, 20, 20}, {8, 64, 3, 3}, 1, 1, 1, 1},              // several row tiles per sample
    // Winograd F(4×4, 3×3) (3×3, stride 1, ≥ 16 channels both sides):
    {{2, 16, 9, 11}, {16, 16, 3, 3}, 1, 1, 1, 1},              // ragged last tile row and column
    {{1, 16, 8, 8}, {24, 16, 3, 3}, 1, 0, 1, 1},               // unpadded, O ≠ C
    {{2, 20, 13, 6}, {16, 20, 3, 3}, 1, {2, 0}, 1, 1},         // padding 2 and 0
    {{1, 32, 48, 40}, {32, 32, 3, 3}, 1, 1, 1, 1},             // several tile blocks per image
};

}  // namespace

TEST_CASE("conv2d: hand-computed 2x2 sums of a 4x4 ramp") {
  // x = 1..16 row-major, w = ones(2x2), bias 1: y[i,j] = 1 + x[i,j] + x[i,j+1] + x[i+1,j] + x[i+1,j+1].
  Tensor x = arange(1, 17, 1, kFloat64).view({1, 1, 4, 4});
  Tensor y = conv2d(x, ones({1, 1, 2, 2}, kFloat64), full({1}, 1.0, kFloat64));
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  CHECK(y.to_vector<double>() == std::vector<double>{15, 19, 23, 31, 35, 39, 47, 51, 55});
  // Stride 2, padding 1: corner windows see one pixel (1, 4, 13, 16), (0,1) sees 2+3, (1,1) sees 6+7+10+11.
  Tensor y2 = conv2d(x, ones({1, 1, 2, 2}, kFloat64), Tensor(), 2, 1);
  CHECK(y2.to_vector<double>() == std::vector<double>{1, 5, 4, 14, 34, 20, 13, 29, 16});
}

TEST_CASE("conv2d: forward and both gradients match a direct loop (float32 and float64)") {
  // The last four cases are the Winograd path's, the others im2col's.
  for (size_t i = 0; i < kCases.size(); ++i) CHECK(cpu::winograd_applies(geometry(kCases[i])) == (i + 4 >= kCases.size()));
  Generator gen(7);
  for (DType dt : {kFloat64, kFloat32}) {
    for (const ConvCase& c : kCases) {
      CAPTURE(shape_str(c.x));
      CAPTURE(shape_str(c.w));
      Naive ref(c);
      Tensor x = randn(c.x, dt, &gen), w = randn(c.w, dt, &gen), b = randn({c.w[0]}, dt, &gen);
      Tensor y = conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
      REQUIRE(y.shape() == Shape{ref.N, ref.O, ref.OH, ref.OW});
      auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
      const double tol = dt == kFloat64 ? 1e-10 : 2e-4 * std::sqrt((double)(ref.Cg * ref.KH * ref.KW));
      CHECK(max_abs_diff(y.to_vector<double>(), ref.forward(xv, wv, b.to_vector<double>())) < tol);
      Tensor gy = randn(y.shape(), dt, &gen);
      Conv2dGrads g = conv2d_backward(gy, x, w, c.stride, c.padding, c.dilation, c.groups, true, true, true);
      std::vector<double> gx, gw;
      ref.backward(xv, wv, gy.to_vector<double>(), gx, gw);
      CHECK(max_abs_diff(g.grad_x.to_vector<double>(), gx) < tol);
      CHECK(max_abs_diff(g.grad_weight.to_vector<double>(), gw) < tol * std::sqrt((double)(ref.N * ref.OH * ref.OW)));
      CHECK(allclose(g.grad_bias, sum(gy, {0, 2, 3}), 1e-4, 1e-4));
    }
  }
}

TEST_CASE("conv2d: a strided input view gives the same result as its contiguous copy") {
  Tensor big = randn({2, 3, 8, 10}, kFloat64);
  Tensor x = big.slice(3, 1, 9).transpose(2, 3);  // [2, 3, 8, 8], non-contiguous
  Tensor w = randn({4, 3, 3, 3}, kFloat64);
  CHECK(allclose(conv2d(x, w, Tensor(), 1, 1), conv2d(x.contiguous(), w, Tensor(), 1, 1), 1e-12, 1e-12));
}

TEST_CASE("conv2d: float64 gradcheck over strides, padding, dilation, groups, 1x1 and batch 1") {
  Generator gen(11);
  // Small versions of the cases above (gradcheck perturbs every element); conv is linear
  // in each input, so there are no kinks to avoid.
  const std::vector<ConvCase> cases = {
      {{2, 2, 5, 4}, {3, 2, 3, 3}, 1, 1, 1, 1},
      {{1, 4, 6, 5}, {4, 2, 3, 2}, {2, 1}, {1, 2}, {1, 2}, 2},
      {{2, 3, 5, 5}, {3, 1, 3, 3}, 2, 1, 1, 3},
      {{1, 3, 3, 4}, {2, 3, 1, 1}, 1, 0, 1, 1},
      {{2, 2, 4, 3}, {2, 2, 1, 1}, 2, 1, 1, 1},
      {{1, 2, 5, 6}, {2, 2, 2, 3}, {1, 2}, 0, {2, 1}, 1},
      {{2, 16, 5, 6}, {16, 16, 3, 3}, 1, 1, 1, 1},  // Winograd, ragged tiles
  };
  CHECK(cpu::winograd_applies(geometry(cases.back())));
  for (const ConvCase& c : cases) {
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.w));
    auto f = [&](const std::vector<Variable>& v) { return conv2d(v[0], v[1], v[2], c.stride, c.padding, c.dilation, c.groups); };
    auto r = gradcheck(f, {randn(c.x, kFloat64, &gen), randn(c.w, kFloat64, &gen), randn({c.w[0]}, kFloat64, &gen)});
    CHECK_MESSAGE(r.ok, r.message);
    auto r2 = gradcheck([&](const std::vector<Variable>& v) { return conv2d(v[0], v[1], Variable(), c.stride, c.padding, c.dilation, c.groups); },
                        {randn(c.x, kFloat64, &gen), randn(c.w, kFloat64, &gen)});
    CHECK_MESSAGE(r2.ok, r2.message);
  }
}

TEST_CASE("conv2d: bad shapes name the shapes") {
  Tensor x = zeros({2, 4, 5, 5});
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 3, 3, 3}), Tensor()),
                       "conv2d: input of shape [2, 4, 5, 5] has 4 channels but weight of shape [3, 3, 3, 3] expects 3 "
                       "(in_channels/groups=3, groups=1)",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 7, 3}), Tensor()),
                       "conv2d: kernel 7x3 (dilated 7x3) is larger than the padded input 5x5 (input [2, 4, 5, 5], "
                       "weight [3, 4, 7, 3], padding (0, 0))",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 3, 3}), Tensor(), 1, 0, 3),
                       "conv2d: kernel 3x3 (dilated 7x7) is larger than the padded input 5x5 (input [2, 4, 5, 5], "
                       "weight [3, 4, 3, 3], padding (0, 0))",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 2, 3, 3}), Tensor(), 1, 0, 1, 2),
                       "conv2d: groups=2 must divide the input channels and output channels (input [2, 4, 5, 5], "
                       "weight [3, 2, 3, 3])",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({4, 5, 5}), zeros({3, 4, 3, 3}), Tensor()),
                       "conv2d: expected a 4-D input [N, C, H, W], got shape [4, 5, 5]", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 3}), Tensor()),
                       "conv2d: expected a 4-D weight [out_channels, in_channels/groups, KH, KW], got shape [3, 4, 3]",
                       Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 3, 3}), zeros({4})),
                       "conv2d: bias of shape [4] does not match 3 output channels", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 3, 3}, kFloat64), Tensor()),
                       "conv2d: operand of shape [3, 4, 3, 3] has dtype float64 but the input has dtype float32", Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({3, 4, 3, 3}), Tensor(), 0),
                       "conv2d: stride must be >= 1, got (0, 0)", Error);
  CHECK_THROWS_WITH_AS(conv2d_backward(zeros({2, 3, 4, 4}), x, zeros({3, 4, 3, 3}), 1, 0, 1, 1, true, true, true),
                       "conv2d_backward: grad_output of shape [2, 3, 4, 4] does not match the output shape [2, 3, 3, 3]",
                       Error);
  CHECK_THROWS_WITH_AS(Conv2d(4, 6, 3, 1, 0, 1, 4), "Conv2d: in_channels=4 and out_channels=6 must be positive and divisible by groups=4", Error);
}

TEST_CASE("Conv2d: parameters, torch's init bounds, forward") {
  Conv2d conv(6, 8, {3, 2}, 1, 1, 1, 2);
  CHECK(conv.weight.shape() == Shape{8, 3, 3, 2});
  REQUIRE(conv.bias.defined());
  auto named = conv.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[1].first == "bias");
  // kaiming_uniform(a=√5) → U(±1/√fan_in) with fan_in = 3·3·2 = 18; the bias uses the same bound.
  const double bound = 1 / std::sqrt(18.0);
  auto w = conv.weight.data().to_vector<double>();
  double lo = 1, hi = -1;
  for (double v : w) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi - lo > 1.6 * bound);  // 144 draws fill most of the range
  for (double v : conv.bias.data().to_vector<double>()) CHECK(std::abs(v) <= bound);
  Tensor x = randn({2, 6, 5, 4});
  Variable y = conv(Variable(x));
  CHECK(y.shape() == Shape{2, 8, 5, 5});
  CHECK(allclose(y.data(), conv2d(x, conv.weight.data(), conv.bias.data(), 1, 1, 1, 2), 1e-6, 1e-6));
  Conv2d nb(2, 2, 1, 1, 0, 1, 1, false);
  CHECK(!nb.bias.defined());
  CHECK(nb.parameters().size() == 1);
}

TEST_CASE("Flatten: merges all but the batch dim and routes the gradient back") {
  Flatten f;
  Variable x(arange(24, kFloat64).view({2, 3, 2, 2}), true);
  Variable y = f(x);
  CHECK(y.shape() == Shape{2, 12});
  CHECK(y.data().to_vector<double>() == x.data().to_vector<double>());
  sum(mul(y, y)).backward();
  CHECK(allclose(x.grad(), mul(x.data(), 2.0)));
  CHECK(Flatten(0, 1)(x).shape() == Shape{6, 2, 2});
}

TEST_CASE("conv2d: the Winograd path's float32 error against the float64 direct sum") {
  // Relative to the scale Σ|w||x| of each output, F(4×4, 3×3) in float32 stays within
  // 1e-5 (measured: 1.8e-6; im2col + GEMM ~1e-7); a wrong transform is off by O(1).
  Generator gen(3);
  const ConvCase c{{2, 64, 23, 17}, {64, 64, 3, 3}, 1, 1, 1, 1};
  REQUIRE(cpu::winograd_applies(geometry(c)));
  Naive ref(c);
  Tensor x = randn(c.x, kFloat32, &gen), w = randn(c.w, kFloat32, &gen);
  auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> ax(xv.size()), aw(wv.size());
  for (size_t i = 0; i < xv.size(); ++i) ax[i] = std::abs(xv[i]);
  for (size_t i = 0; i < wv.size(); ++i) aw[i] = std::abs(wv[i]);
  const auto y = conv2d(x, w, Tensor(), 1, 1).to_vector<double>();
  const auto exact = ref.forward(xv, wv, {}), scale = ref.forward(ax, aw, {});
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(y[i] - exact[i]) / scale[i]);
  MESSAGE("worst relative error " << worst);
  CHECK(worst < 1e-5);
  CHECK(worst > 0);  // float32, not a float64 path
}
