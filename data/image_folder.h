#pragma once
// ImageFolder: images in ImageNet layout, root/<class>/*.{jpg,jpeg,png} (extension
// case ignored), as torchvision.datasets.ImageFolder. Class index = position of the
// folder name in sorted order; files are sorted by path. Images are decoded on
// access (JPEG by its content, through libjpeg-turbo: data/jpeg.h; PNG through
// stb_image) in the calling (loader worker) thread, converted to RGB and
// returned as [3, H, W] float32 pixels in [0, 1]: at each file's own size, or resized
// (stb_image_resize) to a fixed height × width.
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace tg {

class ImageFolder : public Dataset {
 public:
  // Each image at its own size (transforms such as RandomResizedCrop then fix it).
  // Errors: root is not a directory, no class folders, a class folder without images.
  explicit ImageFolder(const std::string& root);
  // Every image resized to height × width.
  ImageFolder(const std::string& root, int64_t height, int64_t width);

  int64_t size() const override { return (int64_t)samples_.size(); }
  // Errors name the file when it cannot be decoded.
  Example get(int64_t index, SampleRng& rng) const override;

  const std::vector<std::string>& classes() const { return classes_; }
  const std::vector<std::pair<std::string, int64_t>>& samples() const { return samples_; }

 private:
  std::vector<std::string> classes_;
  std::vector<std::pair<std::string, int64_t>> samples_;  // (path, class index)
  int64_t height_ = 0, width_ = 0;  // 0: the file's own size
};

// Writes a float32 [C, H, W] image, C = 1 (grey) or 3 (RGB), values in [0, 1], as an
// 8-bit PNG (round(255·x), clamped). Errors name the file: shape, dtype, I/O.
void write_png(const std::string& path, const Tensor& image);

}  // namespace tg
