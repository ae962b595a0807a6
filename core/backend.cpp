#include "core/backend.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/cpu/cpu_backend.h"

namespace tg {

namespace {
Backend* (*g_cuda_factory)(int) = nullptr;
int (*g_cuda_count)() = nullptr;
}  // namespace

Backend& cpu_backend() {
  // Never destroyed: tensors with static storage duration may outlive any static object.
  static cpu::CpuBackend* b = new cpu::CpuBackend();
  return *b;
}

void register_cuda_backend(Backend* (*factory)(int), int (*device_count)()) {
  g_cuda_factory = factory;
  g_cuda_count = device_count;
}

bool cuda_compiled() { return g_cuda_factory != nullptr; }
int cuda_device_count() { return g_cuda_count ? g_cuda_count() : 0; }

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

Backend& backend_for(Device device, const char* op) {
  if (device.is_cpu()) return cpu_backend();
  TG_CHECK(g_cuda_factory != nullptr, op,
           "device {} requested, but this build of tapegrad has no CUDA backend (configure with -DTG_CUDA=ON)",
           device.str());
  const int n = cuda_device_count();
  TG_CHECK(n > 0, op, "device {} requested, but no CUDA device is present on this machine", device.str());
  TG_CHECK(device.index >= 0 && device.index < n, op, "device {} requested, but only {} CUDA device(s) exist",
           device.str(), n);
  return *g_cuda_factory(device.index);
}

}  // namespace tg
