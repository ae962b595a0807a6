// The parts of core/cuda_api.h that exist in every build. With the CUDA backend
// compiled in, the device functions live in core/cuda/cuda_backend.cpp; without it
// they fail the way asking for Device::cuda() does, with the same message.
#include "core/cuda_api.h"

#include <atomic>

#include "core/backend.h"

namespace tg {

namespace {
std::atomic<bool> g_allow_tf32{false};
}  // namespace

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow); }
bool allow_tf32() { return g_allow_tf32.load(); }

#ifndef TG_WITH_CUDA
CudaMemoryStats cuda_memory_stats(int device) {
  backend_for(Device::cuda(device), "cuda_memory_stats");
  return {};
}
void cuda_empty_cache(int device) { backend_for(Device::cuda(device), "cuda_empty_cache"); }
void cuda_synchronize(int device) { backend_for(Device::cuda(device), "cuda_synchronize"); }
#endif

}  // namespace tg
