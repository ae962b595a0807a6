#pragma once
// cuDNN in the CUDA backend (host code): one handle per device, bound to the backend's
// stream so that cuDNN calls are ordered with our own kernels and copies; checked
// calls; and owning wrappers of the legacy-API descriptors, so that a throw between
// create and destroy leaks nothing.
#include <cudnn.h>

#include "core/conv.h"
#include "core/cuda/cuda_backend.h"
#include "core/error.h"

// Throws tg::Error naming the op, the call and cuDNN's status text.
#define TG_CUDNN_CHECK(call, op) ::tg::cuda::cudnn_check((call), #call, op)

namespace tg::cuda {

// Throws tg::Error "op: cuDNN call <call> failed: <status text>" unless st is success.
void cudnn_check(cudnnStatus_t st, const char* call, const char* op);

// The handle of the backend's device, created on first use with the backend's stream
// and kept for the life of the process (as the backends are).
cudnnHandle_t cudnn_handle(CudaBackend& backend, const char* op);

// CUDNN_DATA_FLOAT or CUDNN_DATA_DOUBLE; other dtypes are an error naming op.
cudnnDataType_t cudnn_dtype(DType dt, const char* op);

// The legacy API takes int sizes: throws when a size (or a tensor's element count,
// which cuDNN's 4-D descriptors cannot exceed either) does not fit.
int to_int(int64_t v, const char* what, const char* op);

// cuDNN's alpha/beta scaling factors point to double for double data, to float otherwise.
struct Scale {
  explicit Scale(DType dt) : is_double(dt == DType::f64) {}
  const void* one() const { return is_double ? (const void*)&d1 : (const void*)&f1; }
  const void* zero() const { return is_double ? (const void*)&d0 : (const void*)&f0; }
  bool is_double;
  float f1 = 1.0f, f0 = 0.0f;
  double d1 = 1.0, d0 = 0.0;
};

// A contiguous NCHW tensor [n, c, h, w].
class TensorDesc {
 public:
  TensorDesc(DType dt, int64_t n, int64_t c, int64_t h, int64_t w, const char* op);
  ~TensorDesc();
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

// Convolution weights [out_channels, in_channels/groups, kh, kw], NCHW.
class FilterDesc {
 public:
  FilterDesc(DType dt, int64_t o, int64_t c, int64_t kh, int64_t kw, const char* op);
  ~FilterDesc();
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

// Cross-correlation (torch's "convolution") with g's padding, stride, dilation and
// groups, computed in the data type. The math type starts at the one conv_math_type
// allows and is later set to the chosen algorithm's (cuDNN needs both to pick kernels).
class ConvDesc {
 public:
  ConvDesc(const ConvGeometry& g, DType dt, const char* op);
  ~ConvDesc();
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  void set_math_type(cudnnMathType_t m, const char* op);
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

// CUDNN_DEFAULT_MATH lets cuDNN run float32 as TF32 on Ampere and newer, so float32
// asks for CUDNN_FMA_MATH (true float32) unless set_allow_tf32(true) opted in.
cudnnMathType_t conv_math_type(DType dt);

// A 2-D pooling window with g's kernel, padding and stride.
class PoolingDesc {
 public:
  PoolingDesc(cudnnPoolingMode_t mode, const PoolGeometry& g, const char* op);
  ~PoolingDesc();
  PoolingDesc(const PoolingDesc&) = delete;
  PoolingDesc& operator=(const PoolingDesc&) = delete;
  cudnnPoolingDescriptor_t get() const { return d_; }

 private:
  cudnnPoolingDescriptor_t d_ = nullptr;
};

// Device scratch from the caching allocator, returned at scope exit. Safe while a
// kernel still uses it: blocks are reused in stream order (core/cuda/allocator.h).
class Scratch {
 public:
  Scratch(CudaBackend& backend, size_t nbytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  CudaBackend& backend_;
  size_t n_;
  void* p_ = nullptr;
};

}  // namespace tg::cuda
