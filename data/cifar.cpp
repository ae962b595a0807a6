#include "data/cifar.h"

#include "data/file_bytes.h"

namespace tg {

static constexpr int64_t kPixels = 3 * 32 * 32;

CIFAR10::CIFAR10(const std::string& root, bool train) {
  if (train)
    for (int i = 1; i <= 5; ++i) append(fmt::format("{}/data_batch_{}.bin", root, i));
  else
    append(root + "/test_batch.bin");
}

CIFAR10 CIFAR10::from_files(const std::vector<std::string>& paths) {
  TG_CHECK(!paths.empty(), "CIFAR10", "no files given");
  CIFAR10 ds;
  for (const auto& p : paths) ds.append(p);
  return ds;
}

void CIFAR10::append(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, "CIFAR10");
  const size_t n = bytes.size();
  TG_CHECK(n > 0, "CIFAR10", "'{}' is empty", path);
  TG_CHECK(n % kRecordBytes == 0, "CIFAR10",
           "'{}' is truncated at byte {}: record {} has {} of its {} bytes", path, n, n / kRecordBytes,
           n % kRecordBytes, kRecordBytes);
  const size_t records = n / kRecordBytes;
  for (size_t r = 0; r < records; ++r) {
    const uint8_t* rec = bytes.data() + r * kRecordBytes;
    TG_CHECK(rec[0] < 10, "CIFAR10", "'{}': label {} of record {} is out of range [0, 10)", path, rec[0], r);
    labels_.push_back(rec[0]);
    pixels_.insert(pixels_.end(), rec + 1, rec + kRecordBytes);
  }
}

// x[c, h, w] = byte / 255, the record's planes already being [3, 32, 32].
Example CIFAR10::get(int64_t index, SampleRng&) const {
  check_index(index, size(), "CIFAR10");
  Tensor x = empty({3, 32, 32}, kFloat32);
  float* dst = x.data<float>();
  const uint8_t* src = pixels_.data() + index * kPixels;
  for (int64_t i = 0; i < kPixels; ++i) dst[i] = (float)src[i] / 255.0f;
  return {x, labels_[index]};
}

}  // namespace tg
