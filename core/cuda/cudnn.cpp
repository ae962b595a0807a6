#include "core/cuda/cudnn.h"

#include <climits>
#include <map>
#include <mutex>

#include "core/cuda_api.h"

namespace tg::cuda {

void cudnn_check(cudnnStatus_t st, const char* call, const char* op) {
  if (st != CUDNN_STATUS_SUCCESS)
    throw Error(fmt::format("{}: cuDNN call {} failed: {} (status {})", op, call, cudnnGetErrorString(st), (int)st));
}

cudnnHandle_t cudnn_handle(CudaBackend& backend, const char* op) {
  // Leaked like the backends: nothing may depend on static destruction order at exit.
  static std::mutex* mu = new std::mutex;
  static std::map<int, cudnnHandle_t>* handles = new std::map<int, cudnnHandle_t>;
  std::lock_guard<std::mutex> lock(*mu);
  cudnnHandle_t& h = (*handles)[backend.device().index];
  if (h == nullptr) {
    backend.activate(op);  // cudnnCreate binds the handle to the current device
    cudnnHandle_t created = nullptr;
    TG_CUDNN_CHECK(cudnnCreate(&created), op);
    TG_CUDNN_CHECK(cudnnSetStream(created, backend.stream()), op);
    h = created;
  }
  return h;
}

cudnnDataType_t cudnn_dtype(DType dt, const char* op) {
  if (dt == DType::f32) return CUDNN_DATA_FLOAT;
  if (dt == DType::f64) return CUDNN_DATA_DOUBLE;
  throw Error(fmt::format("{}: cuDNN path supports float32 and float64, got {}", op, dtype_name(dt)));
}

int to_int(int64_t v, const char* what, const char* op) {
  TG_CHECK(v >= 0 && v <= INT_MAX, op, "{} = {} does not fit the 32-bit sizes of cuDNN's API", what, v);
  return (int)v;
}

TensorDesc::TensorDesc(DType dt, int64_t n, int64_t c, int64_t h, int64_t w, const char* op) {
  to_int(n * c * h * w, "tensor element count", op);
  TG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_), op);
  try {
    TG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_, CUDNN_TENSOR_NCHW, cudnn_dtype(dt, op), to_int(n, "N", op),
                                              to_int(c, "C", op), to_int(h, "H", op), to_int(w, "W", op)),
                   op);
  } catch (...) {
    cudnnDestroyTensorDescriptor(d_);
    throw;
  }
}

TensorDesc::~TensorDesc() { cudnnDestroyTensorDescriptor(d_); }

FilterDesc::FilterDesc(DType dt, int64_t o, int64_t c, int64_t kh, int64_t kw, const char* op) {
  to_int(o * c * kh * kw, "weight element count", op);
  TG_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d_), op);
  try {
    TG_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d_, cudnn_dtype(dt, op), CUDNN_TENSOR_NCHW, to_int(o, "O", op),
                                              to_int(c, "C/groups", op), to_int(kh, "KH", op), to_int(kw, "KW", op)),
                   op);
  } catch (...) {
    cudnnDestroyFilterDescriptor(d_);
    throw;
  }
}

FilterDesc::~FilterDesc() { cudnnDestroyFilterDescriptor(d_); }

ConvDesc::ConvDesc(const ConvGeometry& g, DType dt, const char* op) {
  TG_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d_), op);
  try {
    TG_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d_, to_int(g.ph, "padding", op), to_int(g.pw, "padding", op),
                                                   to_int(g.sh, "stride", op), to_int(g.sw, "stride", op),
                                                   to_int(g.dh, "dilation", op), to_int(g.dw, "dilation", op),
                                                   CUDNN_CROSS_CORRELATION, cudnn_dtype(dt, op)),
                   op);
    TG_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d_, to_int(g.groups, "groups", op)), op);
    set_math_type(conv_math_type(dt), op);
  } catch (...) {
    cudnnDestroyConvolutionDescriptor(d_);
    throw;
  }
}

ConvDesc::~ConvDesc() { cudnnDestroyConvolutionDescriptor(d_); }

void ConvDesc::set_math_type(cudnnMathType_t m, const char* op) {
  TG_CUDNN_CHECK(cudnnSetConvolutionMathType(d_, m), op);
}

cudnnMathType_t conv_math_type(DType dt) {
  return dt == DType::f32 && !allow_tf32() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

PoolingDesc::PoolingDesc(cudnnPoolingMode_t mode, const PoolGeometry& g, const char* op) {
  TG_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&d_), op);
  try {
    TG_CUDNN_CHECK(cudnnSetPooling2dDescriptor(d_, mode, CUDNN_PROPAGATE_NAN, to_int(g.KH, "kernel", op),
                                               to_int(g.KW, "kernel", op), to_int(g.ph, "padding", op),
                                               to_int(g.pw, "padding", op), to_int(g.sh, "stride", op),
                                               to_int(g.sw, "stride", op)),
                   op);
  } catch (...) {
    cudnnDestroyPoolingDescriptor(d_);
    throw;
  }
}

PoolingDesc::~PoolingDesc() { cudnnDestroyPoolingDescriptor(d_); }

Scratch::Scratch(CudaBackend& backend, size_t nbytes) : backend_(backend), n_(nbytes) {
  if (n_ > 0) p_ = backend_.allocate(n_);
}

Scratch::~Scratch() {
  if (p_) backend_.deallocate(p_, n_);
}

}  // namespace tg::cuda
