#include "core/backend.h"

#include <algorithm>

namespace tg {

constinit DispatchStub<void* (*)(Device, size_t)> allocate_stub;
constinit DispatchStub<void (*)(Device, void*, size_t)> deallocate_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&)> copy_stub;
constinit DispatchStub<void (*)(const Tensor&, double)> fill_stub;
constinit DispatchStub<void (*)(UnaryOp, const Tensor&, const Tensor&, double, double)> unary_stub;
constinit DispatchStub<void (*)(BinaryOp, const Tensor&, const Tensor&, const Tensor&)> binary_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&)> where_stub;
constinit DispatchStub<void (*)(ReduceOp, const Tensor&, const std::vector<int64_t>&, const Tensor&, const Tensor&)>
    reduce_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, const Tensor&)> matmul_stub;
constinit DispatchStub<void (*)(const Tensor&, int64_t, const Tensor&, const Tensor&)> gather_stub;
constinit DispatchStub<void (*)(const Tensor&, int64_t, const Tensor&, const Tensor&)> scatter_add_stub;
constinit DispatchStub<void (*)(const Tensor&, uint64_t, uint64_t, double, double)> rand_uniform_stub;
constinit DispatchStub<void (*)(const Tensor&, uint64_t, uint64_t, double, double)> rand_normal_stub;
constinit DispatchStub<void (*)(const Tensor&, const Tensor&, uint64_t, uint64_t)> bernoulli_stub;
constinit DispatchStub<CudaMemoryStats (*)(Device)> memory_stats_stub;
constinit DispatchStub<void (*)(Device)> empty_cache_stub;
constinit DispatchStub<void (*)(Device)> synchronize_stub;

namespace {
int (*g_cuda_count)() = nullptr;
}  // namespace

void register_device_type(DeviceType type, int (*device_count)()) {
  if (type == DeviceType::CUDA) g_cuda_count = device_count;
}

bool cuda_compiled() { return g_cuda_count != nullptr; }
int cuda_device_count() { return g_cuda_count ? g_cuda_count() : 0; }

void check_device(Device device, const char* op) {
  if (device.is_cpu()) return;
  TG_CHECK(g_cuda_count != nullptr, op,
           "device {} requested, but this build of tapegrad has no CUDA backend (configure with -DTG_CUDA=ON)",
           device.str());
  const int n = g_cuda_count();
  TG_CHECK(n > 0, op, "device {} requested, but no CUDA device is present on this machine", device.str());
  TG_CHECK(device.index >= 0 && device.index < n, op, "device {} requested, but only {} CUDA device(s) exist",
           device.str(), n);
}

void matrix_layout(const Tensor& t, bool& transposed, int64_t& ld) {
  const int64_t r = t.size(-2), c = t.size(-1), sr = t.stride(-2), sc = t.stride(-1);
  if (sc == 1 && (sr == c || r == 1 || sr >= c)) {
    transposed = false;
    ld = std::max<int64_t>(r == 1 ? c : sr, std::max<int64_t>(c, 1));
  } else {
    transposed = true;
    ld = std::max<int64_t>(c == 1 ? r : sc, std::max<int64_t>(r, 1));
  }
}

}  // namespace tg
