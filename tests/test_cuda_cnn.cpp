// The CNN ops on CUDA devices (cuDNN convolution and average pooling, our own max and
// adaptive pooling and batch norm kernels) against the CPU, the oracle: every op
// forward and backward in float32 and float64, across strides, padding, dilation,
// groups, odd sizes and batch 1, then the layers moved to the GPU. Tests that need a
// GPU skip with one "no CUDA device" line where there is none.
//
// Tolerances: check_parity allows k·ε·(scale + |cpu|); `scale` is the number of terms
// a result sums (the GPU adds them in another order, or cuDNN with another algorithm).
#include <doctest/doctest.h>

#include <vector>

#include "core/conv.h"
#include "core/cuda_api.h"
#include "core/ops.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/module.h"
#include "layers/pool.h"
#include "tests/cuda_parity.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  Int2 stride, padding, dilation;
  int64_t groups;
  bool bias;
};

const ConvCase kConvCases[] = {
    {"3x3 same padding", {2, 3, 7, 6}, {4, 3, 3, 3}, 1, 1, 1, 1, true},
    {"groups 2, uneven stride and dilation, batch 1", {1, 4, 9, 8}, {6, 2, 3, 2}, {2, 1}, {1, 0}, {1, 2}, 2, true},
    {"depthwise", {3, 6, 5, 5}, {6, 1, 3, 3}, 1, 1, 1, 6, false},
    {"1x1", {2, 8, 6, 7}, {5, 8, 1, 1}, 1, 0, 1, 1, true},
    {"odd sizes, large stride and dilation", {2, 2, 11, 13}, {3, 2, 5, 4}, {3, 2}, {2, 1}, {2, 1}, 1, true},
    {"kernel larger than the input, padding only", {1, 2, 2, 2}, {3, 2, 3, 3}, 1, 1, 1, 1, true},
    {"wide channels, stride 2", {2, 32, 8, 8}, {16, 32, 3, 3}, 2, 1, 1, 1, true},
};

// A plane with many ties (values from {-2, …, 2}) so that the first-maximum rule matters.
Tensor tied(const Shape& s, DType dt) {
  std::vector<double> v(shape_numel(s));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (double)((i * 7 + i / 5) % 5) - 2.0;
  return from_vector(v, s).to(dt);
}

void check_conv(const ConvCase& c, DType dt) {
  INFO(c.name << " " << dtype_name(dt));
  const Tensor x = data(c.x, dt, 11), w = data(c.w, dt, 12);
  const Tensor b = c.bias ? data({c.w[0]}, dt, 13) : Tensor();
  const Tensor y = conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
  const Tensor gy_out = conv2d(gpu(x), gpu(w), c.bias ? gpu(b) : Tensor(), c.stride, c.padding, c.dilation, c.groups);
  const double taps = (double)(c.w[1] * c.w[2] * c.w[3]);
  check_parity(gy_out, y, "forward", 8, taps);

  const Tensor g = data(y.shape(), dt, 14);
  const Conv2dGrads r = conv2d_backward(g, x, w, c.stride, c.padding, c.dilation, c.groups, true, true, true);
  const Conv2dGrads rg =
      conv2d_backward(gpu(g), gpu(x), gpu(w), c.stride, c.padding, c.dilation, c.groups, true, true, true);
  const double positions = (double)(y.size(0) * y.size(2) * y.size(3));
  check_parity(rg.grad_x, r.grad_x, "grad_x", 8, (double)(c.w[0] / c.groups * c.w[2] * c.w[3]));
  check_parity(rg.grad_weight, r.grad_weight, "grad_weight", 8, positions);
  check_parity(rg.grad_bias, r.grad_bias, "grad_bias", 8, positions);

  // One gradient at a time: each pass also runs alone.
  const Conv2dGrads only_w =
      conv2d_backward(gpu(g), gpu(x), gpu(w), c.stride, c.padding, c.dilation, c.groups, false, true, false);
  CHECK_FALSE(only_w.grad_x.defined());
  CHECK_FALSE(only_w.grad_bias.defined());
  check_parity(only_w.grad_weight, r.grad_weight, "grad_weight alone", 8, positions);
}

}  // namespace

TEST_CASE("cuda: CNN front checks reject missing indices and statistics on every device") {
  const Tensor g = zeros({1, 1, 2, 2});
  CHECK(error_of([&] { max_pool2d_backward(g, Tensor(), {1, 1, 4, 4}); }) ==
        "max_pool2d_backward: indices must be defined and on the device of grad_output (cpu), got undefined");
  const Tensor x = zeros({2, 3, 2, 2});
  CHECK(error_of([&] { batch_norm_backward(x, x, Tensor(), ones({3}), Tensor(), true, true, false, false); }) ==
        "batch_norm_backward: mean and invstd are required");
}

TEST_CASE("cuda: conv2d forward and backward match the CPU (float32 and float64)") {
  if (!have_gpu()) return;
  for (DType dt : {kFloat32, kFloat64})
    for (const ConvCase& c : kConvCases) check_conv(c, dt);
}

TEST_CASE("cuda: conv2d of a strided view, and with TF32 allowed then disallowed again") {
  if (!have_gpu()) return;
  const Tensor x = data({2, 3, 6, 5}, kFloat32, 21), w = data({4, 3, 3, 3}, kFloat32, 22);
  const Tensor y = conv2d(x.transpose(2, 3).contiguous(), w, Tensor(), 1, 1);
  check_parity(conv2d(gpu(x).transpose(2, 3), gpu(w), Tensor(), 1, 1), y, "transposed view", 8, 27);

  const Tensor x2 = data({2, 16, 9, 9}, kFloat32, 23), w2 = data({8, 16, 3, 3}, kFloat32, 24);
  const Tensor y2 = conv2d(x2, w2, Tensor(), 1, 1);
  set_allow_tf32(true);
  // TF32 keeps 10 mantissa bits: relative error up to about 2^-11 per product.
  check_parity(conv2d(gpu(x2), gpu(w2), Tensor(), 1, 1), y2, "TF32 allowed", 2e4, 144);
  set_allow_tf32(false);
  // The algorithm cache keys on the math type, so this runs in true float32 again.
  check_parity(conv2d(gpu(x2), gpu(w2), Tensor(), 1, 1), y2, "TF32 disallowed again", 8, 144);
}

TEST_CASE("cuda: max_pool2d values, first-maximum indices and backward match the CPU") {
  if (!have_gpu()) return;
  struct Case {
    Shape x;
    Int2 k, s, p;
  };
  const Case cases[] = {{{2, 3, 7, 6}, 2, 2, 0},
                        {{1, 2, 9, 8}, 3, 1, 1},  // overlapping windows: scattered gradients add up
                        {{2, 1, 5, 7}, {3, 2}, {2, 1}, {1, 1}},
                        {{1, 1, 1, 1}, 1, 1, 0}};
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases)
      for (int kind = 0; kind < 3; ++kind) {
        INFO(dtype_name(dt) << " " << shape_str(c.x) << " kind " << kind);
        // random with NaN/±inf/±0; heavy ties; all negative (padding must never win)
        const Tensor x = kind == 0   ? data(c.x, dt, 31, true)
                         : kind == 1 ? tied(c.x, dt)
                                     : sub(abs(data(c.x, dt, 32)), 10.0);
        const MaxPool2dResult r = max_pool2d(x, c.k, c.s, c.p), rg = max_pool2d(gpu(x), c.k, c.s, c.p);
        check_parity(rg.y, r.y, "y", 0);
        CHECK(rg.indices.cpu().to_vector<int64_t>() == r.indices.to_vector<int64_t>());
        const Tensor g = data(r.y.shape(), dt, 33);
        check_parity(max_pool2d_backward(gpu(g), rg.indices, c.x), max_pool2d_backward(g, r.indices, c.x), "grad_x",
                     8, (double)(c.k.h * c.k.w));
      }
}

TEST_CASE("cuda: max_pool2d_backward with an out-of-range index is reported at synchronization") {
  if (!have_gpu()) return;
  const Tensor g = gpu(ones({1, 1, 1, 2}));
  const Tensor idx = gpu(from_vector(std::vector<int64_t>{0, 9}, {1, 1, 1, 2}));
  const std::string msg = error_of([&] {
    max_pool2d_backward(g, idx, {1, 1, 3, 3});
    cuda_synchronize();
  });
  CHECK(msg.find("index 9 out of range for a dim of size 9") != std::string::npos);
}

TEST_CASE("cuda: avg_pool2d with and without counting the padding matches the CPU") {
  if (!have_gpu()) return;
  struct Case {
    Shape x;
    Int2 k, s, p;
  };
  const Case cases[] = {{{2, 3, 7, 6}, 2, 2, 0},
                        {{1, 2, 9, 8}, 3, 1, 1},
                        {{2, 1, 5, 7}, {3, 4}, {2, 3}, {1, 2}},
                        {{1, 1, 1, 1}, 1, 1, 0}};
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases)
      for (bool include : {true, false}) {
        INFO(dtype_name(dt) << " " << shape_str(c.x) << " count_include_pad " << include);
        const Tensor x = data(c.x, dt, 41);
        const Tensor y = avg_pool2d(x, c.k, c.s, c.p, include);
        const double window = (double)(c.k.h * c.k.w);
        check_parity(avg_pool2d(gpu(x), c.k, c.s, c.p, include), y, "y", 8, window);
        const Tensor g = data(y.shape(), dt, 42);
        check_parity(avg_pool2d_backward(gpu(g), c.x, c.k, c.s, c.p, include),
                     avg_pool2d_backward(g, c.x, c.k, c.s, c.p, include), "grad_x", 8, window);
      }
  // NaN and infinities propagate through the window sums.
  const Tensor x = data({1, 2, 6, 6}, kFloat64, 43, true);
  check_parity(avg_pool2d(gpu(x), 3, 2, 1), avg_pool2d(x, 3, 2, 1), "non-finite", 8, 9);
}

TEST_CASE("cuda: adaptive_avg_pool2d with uneven and overlapping bins matches the CPU") {
  if (!have_gpu()) return;
  struct Case {
    Shape x;
    Int2 out;
  };
  // A thread per output for small bins, a warp per output from 16 elements a bin on
  // (global pooling; large uneven bins).
  const Case cases[] = {{{2, 3, 7, 6}, {3, 4}},   {{1, 2, 5, 5}, 1},        {{2, 1, 3, 4}, {5, 7}},
                        {{1, 4, 10, 9}, {4, 3}},  {{2, 3, 40, 33}, 1},      {{2, 2, 37, 29}, {3, 4}}};
  for (DType dt : {kFloat32, kFloat64})
    for (const Case& c : cases) {
      INFO(dtype_name(dt) << " " << shape_str(c.x) << " -> " << c.out.h << "x" << c.out.w);
      const Tensor x = data(c.x, dt, 51);
      const Tensor y = adaptive_avg_pool2d(x, c.out);
      const double bin = (double)(c.x[2] * c.x[3]);
      check_parity(adaptive_avg_pool2d(gpu(x), c.out), y, "y", 8, bin);
      const Tensor g = data(y.shape(), dt, 52);
      check_parity(adaptive_avg_pool2d_backward(gpu(g), c.x), adaptive_avg_pool2d_backward(g, c.x), "grad_x", 8,
                   bin);
    }
}

TEST_CASE("cuda: batch norm statistics, apply and backward match the CPU") {
  if (!have_gpu()) return;
  // The last has more values per channel than a block has threads.
  const Shape shapes[] = {{4, 3, 5, 6}, {1, 2, 7, 3}, {6, 5}, {3, 4, 9}, {2, 70, 1, 1}, {2, 3, 33, 35}};
  for (DType dt : {kFloat32, kFloat64})
    for (const Shape& s : shapes) {
      INFO(dtype_name(dt) << " " << shape_str(s));
      const int64_t C = s[1];
      // A large mean: the two-pass variance must not cancel.
      const Tensor x = add(mul(data(s, dt, 61), 3.0), 100.0);
      const double M = (double)(shape_numel(s) / C);
      const BatchNormStats st = batch_norm_stats(x), sg = batch_norm_stats(gpu(x));
      check_parity(sg.mean, st.mean, "mean", 8, M);
      check_parity(sg.var, st.var, "var", 8, M);

      const Tensor invstd = reciprocal(sqrt(add(st.var, 1e-5)));
      const Tensor w = data({C}, dt, 62), b = data({C}, dt, 63);
      for (bool affine : {true, false}) {
        const Tensor wd = affine ? w : Tensor(), bd = affine ? b : Tensor();
        const Tensor y = batch_norm_apply(x, st.mean, invstd, wd, bd);
        check_parity(batch_norm_apply(gpu(x), gpu(st.mean), gpu(invstd), affine ? gpu(w) : Tensor(),
                                      affine ? gpu(b) : Tensor()),
                     y, affine ? "apply" : "apply without weight and bias", 8, 4);
        const Tensor g = data(s, dt, 64);
        for (bool batch_stats : {true, false}) {
          INFO("affine " << affine << " batch_stats " << batch_stats);
          const BatchNormGrads r = batch_norm_backward(g, x, st.mean, invstd, wd, batch_stats, true, true, true);
          const BatchNormGrads rg = batch_norm_backward(gpu(g), gpu(x), gpu(st.mean), gpu(invstd),
                                                        affine ? gpu(w) : Tensor(), batch_stats, true, true, true);
          check_parity(rg.grad_x, r.grad_x, "grad_x", 8, 8);
          check_parity(rg.grad_weight, r.grad_weight, "grad_weight", 8, M);
          check_parity(rg.grad_bias, r.grad_bias, "grad_bias", 8, M);
        }
      }
    }
}

TEST_CASE("cuda: mixing a CPU and a CUDA operand names both devices") {
  if (!have_gpu()) return;
  const Tensor x = zeros({1, 2, 4, 4}), w = zeros({3, 2, 3, 3});
  const std::string msg = error_of([&] { conv2d(gpu(x), w, Tensor()); });
  CHECK(msg == "conv2d: operand of shape [3, 2, 3, 3] is on cpu but the input is on cuda:0");
  CHECK(error_of([&] { batch_norm_apply(gpu(x), zeros({2}), gpu(ones({2})), Tensor(), Tensor()); }) ==
        "batch_norm: operand of shape [2] is on cpu but the input is on cuda:0");
}

TEST_CASE("cuda: a Conv2d, BatchNorm2d and pooling network moved to the GPU trains and evaluates as on the CPU") {
  if (!have_gpu()) return;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    Sequential net;
    auto conv = std::make_shared<Conv2d>(3, 8, 3, 1, 1, 1, 1, true, dt);
    auto bn = std::make_shared<BatchNorm2d>(8, 1e-5, 0.1, dt);
    auto conv2 = std::make_shared<Conv2d>(8, 8, 3, 2, 1, 2, 4, false, dt);  // grouped, dilated
    net.add(conv).add(bn).add(std::make_shared<MaxPool2d>(2)).add(conv2);
    net.add(std::make_shared<AvgPool2d>(3, 1, 1, false)).add(std::make_shared<AdaptiveAvgPool2d>(Int2{2, 3}));

    const Tensor x = data({4, 3, 13, 11}, dt, 71), x2 = data({4, 3, 13, 11}, dt, 72);
    struct Step {
      Tensor y, gx;
      std::vector<Tensor> grads;
    };
    // One training step (forward, backward with a fixed upstream gradient), on whichever device net lives.
    auto step = [&](Device dev) {
      net.train();
      net.zero_grad();
      Variable in(x.to(dev), true);
      Variable y = net(in);
      y.backward(data(y.shape(), dt, 73).to(dev));
      Step s{y.data(), in.grad(), {}};
      for (auto& [name, p] : net.named_parameters()) s.grads.push_back(p.grad());
      return s;
    };
    const Step cpu_step = step(Device::cpu());
    const Tensor cpu_rm = bn->running_mean.clone(), cpu_rv = bn->running_var.clone();
    net.eval();
    const Tensor cpu_eval = net(Variable(x2)).data();
    // Back to the state before the CPU step, then the same on the GPU.
    bn->running_mean.fill_(0.0);
    bn->running_var.fill_(1.0);
    bn->num_batches_tracked.fill_(0.0);
    net.zero_grad();
    net.to(Device::cuda());
    const Step gpu_step = step(Device::cuda());
    check_parity(gpu_step.y, cpu_step.y, "train output", 8, 64);
    check_parity(gpu_step.gx, cpu_step.gx, "grad_x", 8, 512);
    REQUIRE(gpu_step.grads.size() == cpu_step.grads.size());
    for (size_t i = 0; i < cpu_step.grads.size(); ++i)
      check_parity(gpu_step.grads[i], cpu_step.grads[i], "parameter grad " + std::to_string(i), 8, 2048);
    check_parity(bn->running_mean, cpu_rm, "running_mean", 8, 512);
    check_parity(bn->running_var, cpu_rv, "running_var", 8, 512);
    CHECK(bn->num_batches_tracked.item() == 1);
    net.eval();
    check_parity(net(Variable(gpu(x2))).data(), cpu_eval, "eval output", 8, 64);
  }
}
