// 2-D convolution on CUDA devices through cuDNN. cuDNN's CUDNN_CROSS_CORRELATION with
// a group count and dilation is exactly our conv2d (core/conv.h), in float32 and
// float64, forward (cudnnConvolutionForward, then cudnnAddTensor for the bias),
// backward-data and backward-filter. grad_bias is our own sum over N, OH and OW,
// which accumulates in double as the CPU does (cudnnConvolutionBackwardBias would
// accumulate float32 in float32).
//
// Algorithms come from cuDNN's heuristic ranking (the *_v7 queries, what torch uses
// unless cudnn.benchmark is set: no trial runs, no benchmarking memory). The first
// candidate that runs is cached per (pass, dtype, math type, device, geometry).
// Workspaces come from the backend's caching allocator. float32 runs with
// CUDNN_FMA_MATH (true float32) unless set_allow_tf32(true), so that results agree
// with the CPU's.
#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/cnn_kernels.h"
#include "core/cuda/cudnn.h"
#include "core/cuda_api.h"
#include "core/ops.h"

namespace tg::cuda {

using namespace tg::ops;
namespace {

enum class Pass { Forward, BackwardData, BackwardFilter };

// The descriptors of one convolution; checks that cuDNN derives the output size the
// front function did.
struct ConvDescs {
  ConvDescs(const ConvGeometry& g, DType dt, const char* op)
      : x(dt, g.N, g.C, g.H, g.W, op),
        y(dt, g.N, g.O, g.OH, g.OW, op),
        w(dt, g.O, g.C / g.groups, g.KH, g.KW, op),
        conv(g, dt, op) {
    int n = 0, c = 0, h = 0, wd = 0;
    TG_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &n, &c, &h, &wd), op);
    TG_CHECK(n == g.N && c == g.O && h == g.OH && wd == g.OW, op,
             "cuDNN derives output [{}, {}, {}, {}] but the geometry says [{}, {}, {}, {}]", n, c, h, wd, g.N, g.O,
             g.OH, g.OW);
  }
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
};

// One candidate of a pass: the algorithm (an int, as the three passes have their own
// enums), the math type it runs under and its workspace size.
struct Choice {
  int algo;
  cudnnMathType_t math;
  size_t workspace;
};

using Key = std::array<int64_t, 18>;

Key key_of(Pass pass, DType dt, int device, const ConvGeometry& g) {
  return {(int64_t)pass, (int64_t)dt, (int64_t)conv_math_type(dt), device, g.N, g.C, g.H, g.W, g.O, g.KH, g.KW,
          g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups};
}

struct AlgoCache {
  std::mutex mu;
  std::map<Key, Choice> choices;
};

AlgoCache& algo_cache() {
  static AlgoCache* cache = new AlgoCache;  // leaked, as the backends: no destruction-order questions at exit
  return *cache;
}

// cuDNN's ranked candidates that support this convolution, run under a math type we
// allow (only CUDNN_FMA_MATH for float32 without TF32; never the FP16 down-conversion)
// and answer the workspace size query.
template <class Perf, class WorkspaceSize>
std::vector<Choice> usable(const std::vector<Perf>& perf, int returned, DType dt, ConvDesc& conv,
                           WorkspaceSize workspace_size, const char* op) {
  std::vector<Choice> out;
  for (int i = 0; i < returned; ++i) {
    const Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (conv_math_type(dt) == CUDNN_FMA_MATH && p.mathType != CUDNN_FMA_MATH) continue;
    conv.set_math_type(p.mathType, op);
    size_t bytes = 0;
    if (workspace_size(p.algo, &bytes) == CUDNN_STATUS_SUCCESS) out.push_back({(int)p.algo, p.mathType, bytes});
  }
  return out;
}

// The heuristic query considers the descriptor's math type, which an earlier pass on
// the same descriptors left at its chosen algorithm's: start each query from ours.
void reset_math_type(ConvDesc& conv, DType dt, const char* op) { conv.set_math_type(conv_math_type(dt), op); }

// Runs one pass (run(choice) sets the math type, takes the workspace and returns the
// status of the cuDNN call): with the cached choice for key, or else with the
// candidates of rank() in order. As in torch, a candidate that fails with "not
// supported" or "bad parameter" (the heuristic was wrong about this convolution)
// gives way to the next, and the first that runs is cached. Other failures throw.
template <class Rank, class Run>
void run_pass(const Key& key, Rank rank, Run run, const char* pass, DType dt, const char* op) {
  AlgoCache& cache = algo_cache();
  std::optional<Choice> known;
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    const auto it = cache.choices.find(key);
    if (it != cache.choices.end()) known = it->second;
  }
  if (known) {
    cudnn_check(run(*known), pass, op);
    return;
  }
  const std::vector<Choice> candidates = rank();
  TG_CHECK(!candidates.empty(), op, "cuDNN offers no {} algorithm for this convolution in {}", pass, dtype_name(dt));
  cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
  for (const Choice& c : candidates) {
    st = run(c);
    if (st == CUDNN_STATUS_SUCCESS) {
      std::lock_guard<std::mutex> lock(cache.mu);
      cache.choices.emplace(key, c);
      return;
    }
    const int category = CUDNN_STATUS_CATEGORY(st);
    if (category != CUDNN_STATUS_NOT_SUPPORTED && category != CUDNN_STATUS_BAD_PARAM) break;
  }
  cudnn_check(st, pass, op);
}

}  // namespace

// y = conv(x, w) (+ bias broadcast over N, OH, OW). An empty input (C, H or W is 0)
// leaves only the bias: every tap reads zero padding or nothing.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y, const ConvGeometry& g) {
  const char* op = "conv2d";
  CudaBackend& b = backend_of(x);
  b.activate(op);
  const cudnnHandle_t h = cudnn_handle(b, op);
  const DType dt = x.dtype();
  const Scale scale(dt);
  if (x.numel() == 0) {
    y.zero_();
  } else {
    ConvDescs d(g, dt, op);
    auto rank = [&] {
      int count = 0;
      reset_math_type(d.conv, dt, op);
      TG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count), op);
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(std::max(count, 1));
      int returned = 0;
      TG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                            (int)perf.size(), &returned, perf.data()),
                     op);
      return usable(perf, returned, dt, d.conv,
                    [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
                      return cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(),
                                                                     d.y.get(), a, bytes);
                    },
                    op);
    };
    auto run = [&](const Choice& c) {
      d.conv.set_math_type(c.math, op);
      const Scratch ws(b, c.workspace);
      return cudnnConvolutionForward(h, scale.one(), d.x.get(), x.raw_data(), d.w.get(), w.raw_data(), d.conv.get(),
                                     (cudnnConvolutionFwdAlgo_t)c.algo, ws.get(), ws.size(), scale.zero(), d.y.get(),
                                     y.raw_data());
    };
    run_pass(key_of(Pass::Forward, dt, b.device().index, g), rank, run, "cudnnConvolutionForward", dt, op);
  }
  if (bias.defined()) {
    const TensorDesc yd(dt, g.N, g.O, g.OH, g.OW, op), bd(dt, 1, g.O, 1, 1, op);
    TG_CUDNN_CHECK(cudnnAddTensor(h, scale.one(), bd.get(), bias.raw_data(), scale.one(), yd.get(), y.raw_data()), op);
  }
}

void conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w, const Tensor& gx, const Tensor& gw,
                     const Tensor& gb, const ConvGeometry& g) {
  const char* op = "conv2d_backward";
  if (gb.defined()) gb.copy_(sum(gy, {0, 2, 3}));
  if (!gx.defined() && !gw.defined()) return;
  if (x.numel() == 0) {  // no input values: grad_x is empty and grad_weight sums nothing
    for (const Tensor* t : {&gx, &gw})
      if (t->defined()) t->zero_();
    return;
  }
  CudaBackend& b = backend_of(x);
  b.activate(op);
  const cudnnHandle_t h = cudnn_handle(b, op);
  const DType dt = x.dtype();
  const Scale scale(dt);
  ConvDescs d(g, dt, op);
  if (gx.defined()) {
    auto rank = [&] {
      int count = 0;
      reset_math_type(d.conv, dt, op);
      TG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count), op);
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(std::max(count, 1));
      int returned = 0;
      TG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                                 (int)perf.size(), &returned, perf.data()),
                     op);
      return usable(perf, returned, dt, d.conv,
                    [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
                      return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(),
                                                                          d.x.get(), a, bytes);
                    },
                    op);
    };
    auto run = [&](const Choice& c) {
      d.conv.set_math_type(c.math, op);
      const Scratch ws(b, c.workspace);
      return cudnnConvolutionBackwardData(h, scale.one(), d.w.get(), w.raw_data(), d.y.get(), gy.raw_data(),
                                          d.conv.get(), (cudnnConvolutionBwdDataAlgo_t)c.algo, ws.get(), ws.size(),
                                          scale.zero(), d.x.get(), gx.raw_data());
    };
    run_pass(key_of(Pass::BackwardData, dt, b.device().index, g), rank, run, "cudnnConvolutionBackwardData", dt, op);
  }
  if (gw.defined()) {
    auto rank = [&] {
      int count = 0;
      reset_math_type(d.conv, dt, op);
      TG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count), op);
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(std::max(count, 1));
      int returned = 0;
      TG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
                                                                   (int)perf.size(), &returned, perf.data()),
                     op);
      return usable(perf, returned, dt, d.conv,
                    [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
                      return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x.get(), d.y.get(), d.conv.get(),
                                                                            d.w.get(), a, bytes);
                    },
                    op);
    };
    auto run = [&](const Choice& c) {
      d.conv.set_math_type(c.math, op);
      const Scratch ws(b, c.workspace);
      return cudnnConvolutionBackwardFilter(h, scale.one(), d.x.get(), x.raw_data(), d.y.get(), gy.raw_data(),
                                            d.conv.get(), (cudnnConvolutionBwdFilterAlgo_t)c.algo, ws.get(),
                                            ws.size(), scale.zero(), d.w.get(), gw.raw_data());
    };
    run_pass(key_of(Pass::BackwardFilter, dt, b.device().index, g), rank, run, "cudnnConvolutionBackwardFilter", dt,
             op);
  }
}

TG_REGISTER_KERNEL(conv2d_forward_stub, DeviceType::CUDA, conv2d_forward);
TG_REGISTER_KERNEL(conv2d_backward_stub, DeviceType::CUDA, conv2d_backward);

}  // namespace tg::cuda
