#pragma once
// A caching allocator for one device. Sizes are rounded up to size classes (multiples
// of 512 bytes, then four classes per power of two, so under 512 bytes or 25% is lost), and a
// freed block goes to its class's free list instead of back to the driver: in steady
// state a training step allocates nothing from the driver. Blocks are reused in
// stream order (the backend has one stream per device), so a block freed while a
// kernel still uses it is safe to hand to the next op on that stream.
// The raw allocation functions are injected, so the cache logic is testable without
// a GPU. Thread-safe.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/cuda_api.h"

namespace tg::cuda {

class CachingAllocator {
 public:
  // raw_alloc returns nullptr when the device is out of memory; raw_free releases a block.
  CachingAllocator(std::string device_name, std::function<void*(size_t)> raw_alloc,
                   std::function<void(void*)> raw_free);

  static size_t round_size(size_t nbytes);
  // Throws tg::Error naming the device, the request and the cache state when the
  // device is out of memory even after releasing every cached block.
  void* allocate(size_t nbytes);
  void deallocate(void* p);
  // Returns every cached (free) block to the driver.
  void empty_cache();
  CudaMemoryStats stats() const;

 private:
  void release_cached_locked();

  std::string device_name_;
  std::function<void*(size_t)> raw_alloc_;
  std::function<void(void*)> raw_free_;
  mutable std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live_;               // block -> size class
  CudaMemoryStats stats_;
};

}  // namespace tg::cuda
