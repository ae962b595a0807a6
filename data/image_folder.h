#pragma once
// ImageFolder: images in ImageNet layout, root/<class>/*.{jpg,jpeg,png} (extension
// case ignored), as torchvision.datasets.ImageFolder. Class index = position of the
// folder name in sorted order; files are sorted by path. Images are decoded on
// access (stb_image), converted to RGB, resized (stb_image_resize) to height × width,
// and returned as [3, height, width] float32 pixels in [0, 1].
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace tg {

class ImageFolder : public Dataset {
 public:
  // Errors: root is not a directory, no class folders, a class folder without images.
  ImageFolder(const std::string& root, int64_t height, int64_t width);

  int64_t size() const override { return (int64_t)samples_.size(); }
  // Errors name the file when it cannot be decoded.
  Example get(int64_t index, SampleRng& rng) const override;

  const std::vector<std::string>& classes() const { return classes_; }
  const std::vector<std::pair<std::string, int64_t>>& samples() const { return samples_; }

 private:
  std::vector<std::string> classes_;
  std::vector<std::pair<std::string, int64_t>> samples_;  // (path, class index)
  int64_t height_, width_;
};

}  // namespace tg
