#include "core/cuda/allocator.h"

#include <algorithm>
#include <bit>

#include "core/error.h"

namespace tg::cuda {

CachingAllocator::CachingAllocator(std::string device_name, std::function<void*(size_t)> raw_alloc,
                                   std::function<void(void*)> raw_free)
    : device_name_(std::move(device_name)), raw_alloc_(std::move(raw_alloc)), raw_free_(std::move(raw_free)) {}

// 512-byte granules up to 2 KiB, then steps of a quarter of the size's power of two.
size_t CachingAllocator::round_size(size_t nbytes) {
  constexpr size_t kGranule = 512;
  if (nbytes <= kGranule) return kGranule;
  const size_t step = std::max(kGranule, std::bit_floor(nbytes) / 4);
  return (nbytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t cls = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mu_);
  void* p = nullptr;
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    stats_.cached_bytes -= cls;
  } else {
    p = raw_alloc_(cls);
    if (p == nullptr && stats_.cached_bytes > 0) {  // out of memory: give the cache back and retry once
      release_cached_locked();
      p = raw_alloc_(cls);
    }
    TG_CHECK(p != nullptr, "allocate", "out of memory on {} allocating {} bytes ({} in use by tensors)", device_name_,
             nbytes, stats_.in_use_bytes);
    ++stats_.device_allocs;
  }
  live_[p] = cls;
  stats_.in_use_bytes += cls;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  return p;
}

void CachingAllocator::deallocate(void* p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  TG_CHECK(it != live_.end(), "free", "pointer {} was not allocated by the caching allocator of {}", p, device_name_);
  const size_t cls = it->second;
  live_.erase(it);
  stats_.in_use_bytes -= cls;
  stats_.cached_bytes += cls;
  free_[cls].push_back(p);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (auto& [cls, blocks] : free_) {
    for (void* p : blocks) {
      raw_free_(p);
      ++stats_.device_frees;
    }
    blocks.clear();
  }
  stats_.cached_bytes = 0;
}

CudaMemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace tg::cuda
