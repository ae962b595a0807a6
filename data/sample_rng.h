#pragma once
// Randomness for data augmentation and shuffling, derived from the counter-based
// Philox generator so that results depend only on (seed, epoch, sample index):
// never on the number of loader workers or the order in which samples are built.
#include <cstdint>

namespace tg {

// Two independent 64-bit Philox keys per (seed, epoch): one orders the epoch's
// samples, the other keys every sample's augmentation draws.
struct EpochKeys {
  uint64_t shuffle;
  uint64_t sample;
};
EpochKeys epoch_keys(uint64_t seed, uint64_t epoch);

// The draws of one sample: the k-th block of four words is Philox(key, index·2¹⁶ + k),
// so samples never share counters. A sample may use up to 2¹⁸ words.
class SampleRng {
 public:
  SampleRng(uint64_t sample_key, uint64_t index);
  uint32_t next_u32();
  double uniform();            // U(0, 1]
  int64_t randint(int64_t n);  // uniform on [0, n); requires n > 0

 private:
  uint64_t key_;
  uint64_t counter_;
  uint64_t end_;
  uint32_t words_[4] = {};
  int used_ = 4;
};

}  // namespace tg
