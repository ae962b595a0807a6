#include "data/sample_rng.h"

#include "core/error.h"
#include "core/random.h"

namespace tg {

EpochKeys epoch_keys(uint64_t seed, uint64_t epoch) {
  uint32_t w[4];
  philox(seed, epoch, w);
  return {((uint64_t)w[1] << 32) | w[0], ((uint64_t)w[3] << 32) | w[2]};
}

static constexpr uint64_t kBlocksPerSample = uint64_t(1) << 16;

SampleRng::SampleRng(uint64_t sample_key, uint64_t index)
    : key_(sample_key), counter_(index * kBlocksPerSample), end_(counter_ + kBlocksPerSample) {}

uint32_t SampleRng::next_u32() {
  if (used_ == 4) {
    TG_CHECK(counter_ < end_, "SampleRng", "a sample drew more than {} random words", 4 * kBlocksPerSample);
    philox(key_, counter_++, words_);
    used_ = 0;
  }
  return words_[used_++];
}

double SampleRng::uniform() { return uniform_from_bits(next_u32()); }

int64_t SampleRng::randint(int64_t n) {
  TG_CHECK(n > 0, "SampleRng::randint", "n must be positive, got {}", n);
  const uint64_t hi = next_u32(), lo = next_u32();
  return (int64_t)(((hi << 32) | lo) % (uint64_t)n);
}

}  // namespace tg
