#pragma once
// Philox4x32-10 and the bits-to-uniform map, callable from host and device code, so
// a CUDA draw equals the CPU draw bit for bit for the same seed:
// element i of a draw uses the block (seed, offset + i). Plain C++ outside nvcc.
#include <cstdint>
#if defined(__AVX2__) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

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

#if defined(__AVX2__) && !defined(__CUDACC__)
// philox4x32(seed, counter + j).w[0] for j = 0, …, 7 as the eight 32-bit lanes of an AVX2
// register: the same ten rounds on eight blocks at once, each 32×32→64 multiply done for
// the even and the odd lanes apart (vpmuludq), so the bits equal the scalar draw's
// (tests/test_activations_vector_batch.cpp): 2.5 times faster per block than the scalar
// rounds here (3.0 against 7.4 ns), for kernels that draw one number per block
// (probabilistic VecGELU's masks).
inline __m256i philox4x32_w0_x8(uint64_t seed, uint64_t counter) {
  alignas(32) uint32_t lo[8], hi[8];
  for (int j = 0; j < 8; ++j) {
    const uint64_t c = counter + (uint64_t)j;
    lo[j] = (uint32_t)c;
    hi[j] = (uint32_t)(c >> 32);
  }
  __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
  __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi)), c2 = _mm256_setzero_si256(), c3 = c2;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  // The low and high halves of m·a per 32-bit lane.
  const auto mulhilo = [](__m256i a, __m256i m, __m256i& plo, __m256i& phi) {
    const __m256i even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    plo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    phi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  };
  const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
  for (int r = 0; r < 10; ++r) {
    __m256i lo0, hi0, lo1, hi1;
    mulhilo(c0, m0, lo0, hi0);
    mulhilo(c2, m1, lo1, hi1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
    c1 = lo1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c0;
}
#endif

}  // namespace tg
