#pragma once
// IDX files (the MNIST format: magic 0x0000 08 <ndims>, ndims big-endian uint32
// sizes, then unsigned bytes) and the MNIST / Fashion-MNIST datasets built on them.
// Files may be gzip-compressed (.gz, read through zlib) or raw.
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace tg {

struct IdxArray {
  Shape dims;
  std::vector<uint8_t> data;  // row-major, shape_numel(dims) bytes
};

// Reads an unsigned-byte IDX file. Errors name the file and the fault: bad magic
// number, zero dimensions, truncated at byte N, trailing bytes, gzip errors.
IdxArray read_idx(const std::string& path);

// MNIST and Fashion-MNIST (same format): example i is [1, H, W] float32 pixels in
// [0, 1] (byte / 255) and its label in [0, 10).
class MNIST : public Dataset {
 public:
  // root/{train,t10k}-{images-idx3,labels-idx1}-ubyte, with or without .gz.
  explicit MNIST(const std::string& root, bool train = true);
  // An images file [N, H, W] and a labels file [N]. Errors name the file: wrong
  // dimensions, image count ≠ label count, label out of range.
  static MNIST from_files(const std::string& images_path, const std::string& labels_path);

  int64_t size() const override { return (int64_t)labels_.size(); }
  Example get(int64_t index, SampleRng& rng) const override;
  int64_t height() const { return height_; }
  int64_t width() const { return width_; }

 private:
  explicit MNIST(const std::pair<std::string, std::string>& files);  // (images, labels)
  std::vector<uint8_t> pixels_;
  std::vector<uint8_t> labels_;
  int64_t height_ = 0, width_ = 0;
};

using FashionMNIST = MNIST;

}  // namespace tg
