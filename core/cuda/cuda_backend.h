#pragma once
// The CUDA backend: one instance per device, created on first use and kept for the
// life of the process. Each owns one stream (every kernel, copy and cuBLAS call of
// the device is queued on it, so work runs in program order and freed blocks are
// reused safely), a cuBLAS handle whose workspace comes from the caching allocator,
// and three device words where kernels report a bad index. The host waits
// only where it reads data: device-to-host copies and cuda_synchronize().
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/backend.h"
#include "core/cuda_kernel.h"
#include "core/cuda/allocator.h"
#include "core/cuda/kernels.h"

namespace tg::cuda {

class CudaBackend {
 public:
  explicit CudaBackend(int index);

  void* allocate(size_t nbytes);
  void deallocate(void* p, size_t nbytes);
  void copy(const Tensor& src, const Tensor& dst);
  void fill(const Tensor& dst, double value);
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1);
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
              const Tensor& index);
  void matmul(const Tensor& a, const Tensor& b, const Tensor& out);
  void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
  void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
  void rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi);
  void rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev);
  void bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset);

  // Makes this backend's device current for the calling thread.
  void activate(const char* op) const;
  // Waits for the stream, then throws if a kernel recorded a bad index since the last check.
  void synchronize(const char* op);
  CachingAllocator& allocator() { return allocator_; }
  cudaStream_t stream() const { return stream_; }
  Device device() const { return Device::cuda(index_); }

 private:
  void random(KRandom kind, const Tensor& out, const Tensor& p, uint64_t seed, uint64_t offset, double a, double b,
              const char* op);

  int index_;
  int sm_count_ = 1;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  int64_t* error_device_ = nullptr;  // {op code, index, size} of a bad index, see kernels.h
  int64_t* error_host_ = nullptr;    // pinned copy read at synchronization
  CachingAllocator allocator_;
};

// The backend of CUDA device `index` (which must exist).
CudaBackend& cuda_backend(int index);
// The backend of a CUDA tensor's device.
CudaBackend& backend_of(const Tensor& t);

}  // namespace tg::cuda
