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

namespace {

// The CUDA backend's entries in the dispatch tables of core/backend.h (the CNN ops,
// optimizer updates and activations register beside their own kernels).
const bool registered = (register_device_type(DeviceType::CUDA, &device_count), true);
TG_REGISTER_KERNEL(allocate_stub, DeviceType::CUDA, [](Device d, size_t n) { return cuda_backend(d.index).allocate(n); });
TG_REGISTER_KERNEL(deallocate_stub, DeviceType::CUDA,
                   [](Device d, void* p, size_t n) { cuda_backend(d.index).deallocate(p, n); });
// A copy between devices runs on the source's device when that is a GPU, else on the destination's.
TG_REGISTER_KERNEL(copy_stub, DeviceType::CUDA, [](const Tensor& src, const Tensor& dst) {
  backend_of(src.device().is_cuda() ? src : dst).copy(src, dst);
});
TG_REGISTER_KERNEL(fill_stub, DeviceType::CUDA, [](const Tensor& dst, double v) { backend_of(dst).fill(dst, v); });
TG_REGISTER_KERNEL(unary_stub, DeviceType::CUDA,
                   [](UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
                     backend_of(out).unary(op, x, out, p0, p1);
                   });
TG_REGISTER_KERNEL(binary_stub, DeviceType::CUDA, [](BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  backend_of(out).binary(op, a, b, out);
});
TG_REGISTER_KERNEL(where_stub, DeviceType::CUDA,
                   [](const Tensor& c, const Tensor& a, const Tensor& b, const Tensor& out) {
                     backend_of(out).where(c, a, b, out);
                   });
TG_REGISTER_KERNEL(reduce_stub, DeviceType::CUDA,
                   [](ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                      const Tensor& index) { backend_of(x).reduce(op, x, dims, out, index); });
TG_REGISTER_KERNEL(matmul_stub, DeviceType::CUDA,
                   [](const Tensor& a, const Tensor& b, const Tensor& out) { backend_of(out).matmul(a, b, out); });
TG_REGISTER_KERNEL(gather_stub, DeviceType::CUDA, [](const Tensor& x, int64_t dim, const Tensor& i, const Tensor& out) {
  backend_of(out).gather(x, dim, i, out);
});
TG_REGISTER_KERNEL(scatter_add_stub, DeviceType::CUDA,
                   [](const Tensor& out, int64_t dim, const Tensor& i, const Tensor& src) {
                     backend_of(out).scatter_add(out, dim, i, src);
                   });
TG_REGISTER_KERNEL(rand_uniform_stub, DeviceType::CUDA,
                   [](const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
                     backend_of(out).rand_uniform(out, seed, offset, lo, hi);
                   });
TG_REGISTER_KERNEL(rand_normal_stub, DeviceType::CUDA,
                   [](const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) {
                     backend_of(out).rand_normal(out, seed, offset, mean, stddev);
                   });
TG_REGISTER_KERNEL(bernoulli_stub, DeviceType::CUDA, [](const Tensor& p, const Tensor& out, uint64_t seed,
                                                        uint64_t offset) {
  backend_of(out).bernoulli(p, out, seed, offset);
});
TG_REGISTER_KERNEL(memory_stats_stub, DeviceType::CUDA,
                   [](Device d) { return cuda_backend(d.index).allocator().stats(); });
TG_REGISTER_KERNEL(empty_cache_stub, DeviceType::CUDA, [](Device d) {
  CudaBackend& b = cuda_backend(d.index);
  b.synchronize("cuda_empty_cache");
  b.allocator().empty_cache();
});
TG_REGISTER_KERNEL(synchronize_stub, DeviceType::CUDA,
                   [](Device d) { cuda_backend(d.index).synchronize("cuda_synchronize"); });

}  // namespace

}  // namespace tg::cuda
