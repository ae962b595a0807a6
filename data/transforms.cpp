#include "data/transforms.h"

namespace tg {

// Transforms run on loader worker threads: plain loops, no OpenMP teams.
static Tensor checked_image(const Tensor& image, const char* op) {
  TG_CHECK(image.defined() && image.dtype() == kFloat32 && image.dim() == 3, op,
           "expected a float32 [C, H, W] image, got {}",
           image.defined() ? fmt::format("{} {}", dtype_name(image.dtype()), shape_str(image.shape())) : "undefined");
  return image.cpu().contiguous();
}

Compose::Compose(std::vector<Shared<const Transform>> transforms) {
  for (const auto& t : transforms) transforms_.push_back(t.ptr());
  for (const auto& t : transforms_) TG_CHECK(t != nullptr, "Compose", "a transform is null");
}

Tensor Compose::operator()(const Tensor& image, SampleRng& rng) const {
  Tensor x = image;
  for (const auto& t : transforms_) x = (*t)(x, rng);
  return x;
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
  TG_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize",
           "mean and std need the same, non-zero length, got {} and {}", mean_.size(), std_.size());
  for (double s : std_) TG_CHECK(s > 0, "Normalize", "std must be positive, got {}", std_);
}

// out[c, h, w] = (x[c, h, w] − mean[c]) / std[c]
Tensor Normalize::operator()(const Tensor& image, SampleRng&) const {
  Tensor x = checked_image(image, "Normalize");
  const int64_t C = x.size(0), plane = x.size(1) * x.size(2);
  TG_CHECK(mean_.size() == 1 || (int64_t)mean_.size() == C, "Normalize",
           "{} mean/std values for an image of {} channels (shape {})", mean_.size(), C, shape_str(x.shape()));
  Tensor out = empty(x.shape(), kFloat32);
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < C; ++c) {
    const size_t k = mean_.size() == 1 ? 0 : (size_t)c;
    const float m = (float)mean_[k], inv = (float)(1.0 / std_[k]);
    for (int64_t i = 0; i < plane; ++i) dst[c * plane + i] = (src[c * plane + i] - m) * inv;
  }
  return out;
}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding)
    : height_(height), width_(width), padding_(padding) {
  TG_CHECK(height > 0 && width > 0 && padding >= 0, "RandomCrop",
           "size must be positive and padding non-negative, got {}x{} with padding {}", height, width, padding);
}

// out[c, i, j] = padded[c, top + i, left + j], padded = x with `padding` zeros on each side.
Tensor RandomCrop::operator()(const Tensor& image, SampleRng& rng) const {
  Tensor x = checked_image(image, "RandomCrop");
  const int64_t C = x.size(0), H = x.size(1), W = x.size(2), p = padding_;
  TG_CHECK(H + 2 * p >= height_ && W + 2 * p >= width_, "RandomCrop",
           "crop {}x{} is larger than the padded image {}x{} (image {}, padding {})", height_, width_, H + 2 * p,
           W + 2 * p, shape_str(x.shape()), p);
  const int64_t top = rng.randint(H + 2 * p - height_ + 1), left = rng.randint(W + 2 * p - width_ + 1);
  Tensor out = empty({C, height_, width_}, kFloat32);
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < height_; ++i) {
      const int64_t sy = top + i - p;
      float* row = dst + (c * height_ + i) * width_;
      for (int64_t j = 0; j < width_; ++j) {
        const int64_t sx = left + j - p;
        row[j] = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? src[(c * H + sy) * W + sx] : 0.0f;
      }
    }
  return out;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  TG_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip", "p must be in [0, 1], got {}", p);
}

// out[c, h, w] = x[c, h, W − 1 − w] when flipped.
Tensor RandomHorizontalFlip::operator()(const Tensor& image, SampleRng& rng) const {
  Tensor x = checked_image(image, "RandomHorizontalFlip");
  if (rng.uniform() > p_) return x;
  const int64_t rows = x.size(0) * x.size(1), W = x.size(2);
  Tensor out = empty(x.shape(), kFloat32);
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t w = 0; w < W; ++w) dst[r * W + w] = src[r * W + W - 1 - w];
  return out;
}

TransformDataset::TransformDataset(Shared<const Dataset> base, Shared<const Transform> transform)
    : base_(base.ptr()), transform_(transform.ptr()) {
  TG_CHECK(base_ != nullptr && transform_ != nullptr, "TransformDataset", "dataset and transform must not be null");
}

Example TransformDataset::get(int64_t index, SampleRng& rng) const {
  Example e = base_->get(index, rng);
  e.data = (*transform_)(e.data, rng);
  return e;
}

}  // namespace tg
