// The CUDA caching allocator's bookkeeping, with host malloc standing in for
// cudaMalloc: it runs wherever the backend is compiled, GPU or not (tests/cuda/ is
// built only with the CUDA backend).
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>

#include "core/cuda/allocator.h"
#include "core/error.h"

using tg::cuda::CachingAllocator;

TEST_CASE("cuda allocator: size classes") {
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::round_size(4096) == 4096);
  CHECK(CachingAllocator::round_size(4097) == 5120);       // quarter steps of 4096
  CHECK(CachingAllocator::round_size(1000000) == 1048576);  // 2^19 + 3 * 2^17
  for (size_t n : {1ul, 700ul, 3000ul, 123456ul, 9999999ul, 1ul << 30}) {
    const size_t r = CachingAllocator::round_size(n);
    CHECK(r >= n);
    CHECK((double)r <= std::max((double)n + 511, 1.25 * (double)n));  // below 25% or 512 bytes lost
  }
}

TEST_CASE("cuda allocator: freed blocks are reused, counted, and released") {
  int mallocs = 0, frees = 0;
  std::set<void*> raw;
  CachingAllocator a(
      "test", [&](size_t n) { ++mallocs; void* p = std::malloc(n); raw.insert(p); return p; },
      [&](void* p) { ++frees; raw.erase(p); std::free(p); });
  void* p = a.allocate(1000);
  void* q = a.allocate(5000);
  CHECK(mallocs == 2);
  CHECK(a.stats().in_use_bytes == 1024 + 5120);
  a.deallocate(p);
  CHECK(a.stats().in_use_bytes == 5120);
  CHECK(a.stats().cached_bytes == 1024);
  void* r = a.allocate(600);  // same class as 1000: the cached block comes back
  CHECK(r == p);
  CHECK(mallocs == 2);
  CHECK(a.stats().cached_bytes == 0);
  a.deallocate(r);
  a.deallocate(q);
  CHECK(a.stats().peak_in_use_bytes == 1024 + 5120);
  CHECK(a.stats().device_allocs == 2);
  a.empty_cache();
  CHECK(frees == 2);
  CHECK(raw.empty());
  CHECK(a.stats().cached_bytes == 0);
  CHECK(a.stats().device_frees == 2);
  CHECK_THROWS_WITH_AS(a.deallocate(q), doctest::Contains("was not allocated by the caching allocator of test"),
                       tg::Error);
}

TEST_CASE("cuda allocator: out of memory releases the cache, then fails with the numbers") {
  size_t budget = 4096, used = 0;
  CachingAllocator a(
      "cuda:7",
      [&](size_t n) -> void* {
        if (used + n > budget) return nullptr;
        used += n;
        return std::malloc(n);
      },
      [&](void* p) {
        used -= 512;  // every block in this test is one 512-byte class
        std::free(p);
      });
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(a.allocate(100));
  for (int i = 0; i < 8; ++i) a.deallocate(blocks[i]);
  CHECK(a.stats().cached_bytes == 4096);
  void* big = a.allocate(3000);  // needs the cached blocks returned first
  CHECK(big != nullptr);
  CHECK(a.stats().cached_bytes == 0);
  CHECK(a.stats().device_frees == 8);
  CHECK_THROWS_WITH_AS(a.allocate(4000),
                       doctest::Contains("out of memory on cuda:7 allocating 4000 bytes (3072 in use by tensors)"),
                       tg::Error);
  std::free(big);
}
