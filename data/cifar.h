#pragma once
// CIFAR-10, binary version: records of 1 label byte + 3072 pixel bytes (1024 red,
// 1024 green, 1024 blue, each 32×32 row-major). Example i is [3, 32, 32] float32
// pixels in [0, 1] and its label in [0, 10).
#include <string>
#include <vector>

#include "data/dataset.h"

namespace tg {

class CIFAR10 : public Dataset {
 public:
  static constexpr int64_t kRecordBytes = 3073;
  // root/data_batch_{1..5}.bin (train) or root/test_batch.bin.
  explicit CIFAR10(const std::string& root, bool train = true);
  // Records of the given files, in order. Errors name the file: truncated at byte N
  // (a partial record), empty file, label out of range.
  static CIFAR10 from_files(const std::vector<std::string>& paths);

  int64_t size() const override { return (int64_t)labels_.size(); }
  Example get(int64_t index, SampleRng& rng) const override;

 private:
  CIFAR10() = default;
  void append(const std::string& path);
  std::vector<uint8_t> pixels_;  // 3072 bytes per example
  std::vector<uint8_t> labels_;
};

}  // namespace tg
