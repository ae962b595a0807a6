// 2-D convolution on CUDA devices through cuDNN. cuDNN's CUDNN_CROSS_CORRELATION with
// a group count and dilation is exactly our conv2d (core/conv.h), in float32 and
// float64, forward (cudnnConvolutionForward, then cudnnAddTensor for the bias),
// backward-data and backward-filter. grad_bias is our own sum over N, OH and OW,
// which accumulates in double as the CPU does (cudnnConvolutionBackwardBias would
// accumulate float32 in float32).
//
// Algorithms come from cuDNN's heuristic ranking (the *_v7 queries, what torch uses
// unless cudnn.benchmark is set: no trial runs, no benchmarking memory), chosen once
// per (pass, dtype, math type, device, geometry) and cached. Workspaces come from the
// backend's caching allocator. float32 runs with CUDNN_FMA_MATH (true float32) unless
// set_allow_tf32(true), so that results agree with the CPU's.
#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <vector>

#include "core/cuda/cnn.h"
#include "core/cuda/cudnn.h"
#include "core/cuda_api.h"
#include "core/ops.h"

namespace tg::cuda {
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

// One pass's choice: the algorithm (an int, as the three passes have their own enums),
// the math type it runs under and its workspace size.
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

// The cached choice for key, computed by choose() on first sight (outside the lock:
// two threads may both choose, and the first to finish is kept).
template <class F>
Choice cached(const Key& key, F choose) {
  AlgoCache& cache = algo_cache();
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    const auto it = cache.choices.find(key);
    if (it != cache.choices.end()) return it->second;
  }
  const Choice c = choose();
  std::lock_guard<std::mutex> lock(cache.mu);
  return cache.choices.emplace(key, c).first->second;
}

// The first of cuDNN's ranked candidates that supports this convolution, runs under a
// math type we allow (only CUDNN_FMA_MATH for float32 without TF32; never the FP16
// down-conversion) and whose workspace size query succeeds.
template <class Perf, class WorkspaceSize>
Choice pick(const std::vector<Perf>& perf, int returned, DType dt, ConvDesc& conv, WorkspaceSize workspace_size,
            const char* pass, const char* op) {
  for (int i = 0; i < returned; ++i) {
    const Perf& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    if (conv_math_type(dt) == CUDNN_FMA_MATH && p.mathType != CUDNN_FMA_MATH) continue;
    conv.set_math_type(p.mathType, op);
    size_t bytes = 0;
    if (workspace_size(p.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    return {(int)p.algo, p.mathType, bytes};
  }
  throw Error(fmt::format("{}: cuDNN offers no {} algorithm for this convolution in {} ({} candidates ranked)", op,
                          pass, dtype_name(dt), returned));
}

Choice forward_choice(cudnnHandle_t h, ConvDescs& d, DType dt, const Key& key, const char* op) {
  return cached(key, [&] {
    int count = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count), op);
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(std::max(count, 1));
    int returned = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                          (int)perf.size(), &returned, perf.data()),
                   op);
    return pick(perf, returned, dt, d.conv,
                [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
                  return cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(), a,
                                                                 bytes);
                },
                "forward", op);
  });
}

Choice backward_data_choice(cudnnHandle_t h, ConvDescs& d, DType dt, const Key& key, const char* op) {
  return cached(key, [&] {
    int count = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count), op);
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(std::max(count, 1));
    int returned = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                               (int)perf.size(), &returned, perf.data()),
                   op);
    return pick(perf, returned, dt, d.conv,
                [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
                  return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(),
                                                                      d.x.get(), a, bytes);
                },
                "backward-data", op);
  });
}

Choice backward_filter_choice(cudnnHandle_t h, ConvDescs& d, DType dt, const Key& key, const char* op) {
  return cached(key, [&] {
    int count = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count), op);
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(std::max(count, 1));
    int returned = 0;
    TG_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
                                                                 (int)perf.size(), &returned, perf.data()),
                   op);
    return pick(perf, returned, dt, d.conv,
                [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
                  return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x.get(), d.y.get(), d.conv.get(),
                                                                        d.w.get(), a, bytes);
                },
                "backward-filter", op);
  });
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
    const Choice c = forward_choice(h, d, dt, key_of(Pass::Forward, dt, b.device().index, g), op);
    d.conv.set_math_type(c.math, op);
    const Scratch ws(b, c.workspace);
    TG_CUDNN_CHECK(cudnnConvolutionForward(h, scale.one(), d.x.get(), x.raw_data(), d.w.get(), w.raw_data(),
                                           d.conv.get(), (cudnnConvolutionFwdAlgo_t)c.algo, ws.get(), ws.size(),
                                           scale.zero(), d.y.get(), y.raw_data()),
                   op);
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
    const Choice c = backward_data_choice(h, d, dt, key_of(Pass::BackwardData, dt, b.device().index, g), op);
    d.conv.set_math_type(c.math, op);
    const Scratch ws(b, c.workspace);
    TG_CUDNN_CHECK(cudnnConvolutionBackwardData(h, scale.one(), d.w.get(), w.raw_data(), d.y.get(), gy.raw_data(),
                                                d.conv.get(), (cudnnConvolutionBwdDataAlgo_t)c.algo, ws.get(),
                                                ws.size(), scale.zero(), d.x.get(), gx.raw_data()),
                   op);
  }
  if (gw.defined()) {
    const Choice c = backward_filter_choice(h, d, dt, key_of(Pass::BackwardFilter, dt, b.device().index, g), op);
    d.conv.set_math_type(c.math, op);
    const Scratch ws(b, c.workspace);
    TG_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, scale.one(), d.x.get(), x.raw_data(), d.y.get(), gy.raw_data(),
                                                  d.conv.get(), (cudnnConvolutionBwdFilterAlgo_t)c.algo, ws.get(),
                                                  ws.size(), scale.zero(), d.w.get(), gw.raw_data()),
                   op);
  }
}

}  // namespace tg::cuda
