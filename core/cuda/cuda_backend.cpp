#include "core/cuda/cuda_backend.h"

#include <mutex>
#include <vector>

#include "core/cuda/check.h"
#include "core/cuda_api.h"

namespace tg::cuda {

namespace {

// cudaGetDeviceCount fails without a driver or a GPU: that is 0 devices, never a crash.
int device_count() {
  static const int n = [] {
    int c = 0;
    if (cudaGetDeviceCount(&c) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return c;
  }();
  return n;
}

// Backends are created on first use and deliberately never destroyed: tensors with
// static lifetime may be freed after the CUDA runtime has shut down at exit, and
// returning their blocks to a live cache needs no CUDA call.
Backend* factory(int index) { return &cuda_backend(index); }

const bool registered = (register_cuda_backend(&factory, &device_count), true);

constexpr size_t kCublasWorkspace = 32u << 20;  // cuBLAS's recommendation for Hopper

}  // namespace

CudaBackend& cuda_backend(int index) {
  // Leaked like the backends: a tensor freed during static destruction still gets here.
  static std::mutex* mu = new std::mutex;
  static std::vector<CudaBackend*>* backends = new std::vector<CudaBackend*>(device_count(), nullptr);
  std::lock_guard<std::mutex> lock(*mu);
  CudaBackend*& b = (*backends)[index];
  if (b == nullptr) b = new CudaBackend(index);
  return *b;
}

CudaBackend& backend_of(const Tensor& t) { return cuda_backend(t.device().index); }

cudaStream_t stream_of(const Tensor& t, const char* op) {
  const CudaBackend& b = backend_of(t);
  b.activate(op);
  return b.stream();
}

CudaBackend::CudaBackend(int index)
    : index_(index),
      allocator_(
          Device::cuda(index).str(),
          [index](size_t n) -> void* {
            void* p = nullptr;
            TG_CUDA_CHECK(cudaSetDevice(index), "allocate");
            const cudaError_t e = cudaMalloc(&p, n);
            if (e == cudaErrorMemoryAllocation) {
              cudaGetLastError();
              return nullptr;
            }
            TG_CUDA_CHECK(e, "allocate");
            return p;
          },
          [index](void* p) {
            TG_CUDA_CHECK(cudaSetDevice(index), "free");
            TG_CUDA_CHECK(cudaFree(p), "free");
          }) {
  activate("cuda init");
  TG_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, index), "cuda init");
  TG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cuda init");
  TG_CUBLAS_CHECK(cublasCreate(&cublas_), "cuda init");
  TG_CUBLAS_CHECK(cublasSetStream(cublas_, stream_), "cuda init");
  TG_CUBLAS_CHECK(cublasSetWorkspace(cublas_, allocator_.allocate(kCublasWorkspace), kCublasWorkspace), "cuda init");
  TG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&error_device_), 3 * sizeof(int64_t)), "cuda init");
  TG_CUDA_CHECK(cudaMemsetAsync(error_device_, 0, 3 * sizeof(int64_t), stream_), "cuda init");
  TG_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&error_host_), 3 * sizeof(int64_t)), "cuda init");
}

void CudaBackend::activate(const char* op) const {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current == index_) return;
  TG_CUDA_CHECK(cudaSetDevice(index_), op);
}

// The error words ride the same stream, so they hold every kernel's report up to here.
void CudaBackend::synchronize(const char* op) {
  TG_CUDA_CHECK(cudaMemcpyAsync(error_host_, error_device_, 3 * sizeof(int64_t), cudaMemcpyDeviceToHost, stream_), op);
  TG_CUDA_CHECK(cudaStreamSynchronize(stream_), op);
  if (error_host_[0] == 0) return;
  const int64_t code = error_host_[0], idx = error_host_[1], size = error_host_[2];
  TG_CUDA_CHECK(cudaMemsetAsync(error_device_, 0, 3 * sizeof(int64_t), stream_), op);
  throw Error(fmt::format("{}: index {} out of range for a dim of size {} on {} (reported at {})",
                          code == kGatherError ? "gather" : "scatter_add", idx, size, device().str(), op));
}

void* CudaBackend::allocate(size_t nbytes) {
  return allocator_.allocate(nbytes);
}

void CudaBackend::deallocate(void* p, size_t) { allocator_.deallocate(p); }

}  // namespace tg::cuda

namespace tg {

CudaMemoryStats cuda_memory_stats(int device) {
  backend_for(Device::cuda(device), "cuda_memory_stats");
  return cuda::cuda_backend(device).allocator().stats();
}

void cuda_empty_cache(int device) {
  backend_for(Device::cuda(device), "cuda_empty_cache");
  cuda::CudaBackend& b = cuda::cuda_backend(device);
  b.synchronize("cuda_empty_cache");
  b.allocator().empty_cache();
}

void cuda_synchronize(int device) {
  backend_for(Device::cuda(device), "cuda_synchronize");
  cuda::cuda_backend(device).synchronize("cuda_synchronize");
}

}  // namespace tg
