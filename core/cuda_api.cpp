// core/cuda_api.h: the controls dispatch like every kernel, so in a build without the
// CUDA backend (or without a GPU) they fail the way asking for Device::cuda() does.
#include "core/cuda_api.h"

#include <atomic>

#include "core/backend.h"

namespace tg {

namespace {
std::atomic<bool> g_allow_tf32{false};
}  // namespace

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow); }
bool allow_tf32() { return g_allow_tf32.load(); }

CudaMemoryStats cuda_memory_stats(int device) {
  return memory_stats_stub(Device::cuda(device), "cuda_memory_stats", Device::cuda(device));
}
void cuda_empty_cache(int device) { empty_cache_stub(Device::cuda(device), "cuda_empty_cache", Device::cuda(device)); }
void cuda_synchronize(int device) { synchronize_stub(Device::cuda(device), "cuda_synchronize", Device::cuda(device)); }

}  // namespace tg
