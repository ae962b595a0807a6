#pragma once
// Philox4x32-10 and the bits-to-uniform map, callable from host and device code, so
// a CUDA draw equals the CPU draw bit for bit for the same seed:
// element i of a draw uses the block (seed, offset + i). Plain C++ outside nvcc.
#include <cstdint>

#if defined(__CUDACC__)
#define TG_HOST_DEVICE __host__ __device__
#else
#define TG_HOST_DEVICE
#endif

namespace tg {

struct PhiloxBlock {
  uint32_t w[4];
};

// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (2011): ten rounds of
// two 32x32->64 multiplies, with the key bumped by the Weyl constants each round.
TG_HOST_DEVICE inline PhiloxBlock philox4x32(uint64_t seed, uint64_t counter) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: (bits + 1) / 2^32, exact in double.
TG_HOST_DEVICE inline double philox_uniform(uint32_t bits) { return ((double)bits + 1.0) * (1.0 / 4294967296.0); }

}  // namespace tg
