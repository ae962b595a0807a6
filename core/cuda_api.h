#pragma once
// Public controls of the CUDA backend, usable without CUDA headers and in builds
// without the backend (where the device functions throw an error saying so, as
// asking for Device::cuda() does).
#include <cstddef>
#include <cstdint>

namespace tg {

struct CudaMemoryStats {
  size_t in_use_bytes = 0;       // held by live tensors (size-class rounded)
  size_t cached_bytes = 0;       // freed by tensors, kept for reuse
  size_t peak_in_use_bytes = 0;
  int64_t device_allocs = 0;     // cudaMalloc calls so far
  int64_t device_frees = 0;      // cudaFree calls so far
};

// The caching allocator's counters for CUDA device `device`.
CudaMemoryStats cuda_memory_stats(int device = 0);
// Returns the device's cached blocks to the driver (live tensors are untouched).
void cuda_empty_cache(int device = 0);
// Waits for all work queued on the device's stream; reports any deferred kernel error
// (such as an out-of-range gather index).
void cuda_synchronize(int device = 0);

// TF32 tensor-core math for float32 matmul: off by default (full float32 precision),
// as torch.backends.cuda.matmul.allow_tf32 = False.
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace tg
