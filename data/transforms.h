#pragma once
// Per-sample transforms on float32 [C, H, W] images (torchvision names and
// semantics), and TransformDataset, which applies one to every example of a dataset.
// The ImageNet recipes:  train  RandomResizedCrop(224) → RandomHorizontalFlip → Normalize
//                        val    Resize(256) → CenterCrop(224) → Normalize
// Random transforms draw from the sample's SampleRng, so an epoch's augmentations
// depend only on (seed, epoch, index), whatever the number of loader workers.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace tg {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual Tensor operator()(const Tensor& image, SampleRng& rng) const = 0;
};

// Applies transforms in order (their draws follow one another in the sample's stream).
class Compose : public Transform {
 public:
  explicit Compose(std::vector<Shared<const Transform>> transforms);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  std::vector<std::shared_ptr<const Transform>> transforms_;
};

// out[c] = (x[c] − mean[c]) / std[c]; mean and std hold one value per channel, or a
// single value for all channels. Requires std > 0.
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  std::vector<double> mean_, std_;
};

// Pads every side with `padding` zeros, then crops a height × width window at a
// uniformly drawn position (two draws: top, then left).
class RandomCrop : public Transform {
 public:
  RandomCrop(int64_t height, int64_t width, int64_t padding = 0);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  int64_t height_, width_, padding_;
};

// Mirrors the image left-right with probability p (one draw u ∈ (0, 1]; flips when u ≤ p).
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  double p_;
};

// Resamples every channel to height × width with the bilinear filter, antialiased
// when shrinking as torchvision (antialias=True) and Pillow do: each output pixel
// averages the input over a triangle whose half-width is max(in/out, 1) input pixels,
// centred at (o + ½)·in/out − ½; the weights are normalized over the pixels inside the
// image. Enlarging is plain bilinear interpolation with half-pixel centres.
Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width);

// Resizes so that the shorter side becomes `size` and the longer one
// floor(size · long / short) (torchvision's Resize(int)); bilinear as resize_bilinear.
class Resize : public Transform {
 public:
  explicit Resize(int64_t size);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  int64_t size_;
};

// The central height × width window; top = round((H − height)/2), left likewise,
// ties to even as Python's round. Errors: a crop larger than the image.
class CenterCrop : public Transform {
 public:
  CenterCrop(int64_t height, int64_t width);
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;

 private:
  int64_t height_, width_;
};

// torchvision's RandomResizedCrop: up to 10 attempts draw an area fraction
// a ~ U(scale) and a log aspect ratio ~ U(log ratio), giving a crop of
// w = round(√(a·H·W·ratio)) by h = round(√(a·H·W/ratio)); the first that fits is
// placed at top ~ U{0..H−h}, left ~ U{0..W−w}. If none fits, the central crop of
// the whole image clamped to the ratio range. The crop is resized to
// height × width (resize_bilinear). Draws per attempt: area, ratio; then top, left.
class RandomResizedCrop : public Transform {
 public:
  RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale = {0.08, 1.0},
                    std::pair<double, double> ratio = {3.0 / 4.0, 4.0 / 3.0});
  Tensor operator()(const Tensor& image, SampleRng& rng) const override;
  struct Box {
    int64_t top, left, height, width;
  };
  // The crop box for an image of H × W (the draws above).
  Box box(int64_t H, int64_t W, SampleRng& rng) const;

 private:
  int64_t height_, width_;
  std::pair<double, double> scale_, ratio_;
};

// Example i is base[i] with `transform` applied to its data (label unchanged).
class TransformDataset : public Dataset {
 public:
  TransformDataset(Shared<const Dataset> base, Shared<const Transform> transform);
  int64_t size() const override { return base_->size(); }
  Example get(int64_t index, SampleRng& rng) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::shared_ptr<const Transform> transform_;
};

}  // namespace tg
