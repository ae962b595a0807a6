#pragma once
// Per-sample transforms on float32 [C, H, W] images (torchvision names and
// semantics), and TransformDataset, which applies one to every example of a dataset.
// Random transforms draw from the sample's SampleRng, so an epoch's augmentations
// depend only on (seed, epoch, index), whatever the number of loader workers.
#include <memory>
#include <string>
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
