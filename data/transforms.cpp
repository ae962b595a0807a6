#include "data/transforms.h"

#include <algorithm>
#include <cmath>

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

namespace {

// One axis of a resampling: output o reads `count[o]` input pixels from first[o] on,
// with weights w[o·taps …]. Pillow's coefficients for its bilinear filter.
struct AxisTaps {
  int64_t taps = 0;
  std::vector<int64_t> first, count;
  std::vector<float> w;
};

AxisTaps bilinear_taps(int64_t in, int64_t out) {
  const double scale = (double)in / (double)out, filter_scale = std::max(scale, 1.0), support = filter_scale;
  AxisTaps a;
  a.taps = (int64_t)std::ceil(support) * 2 + 1;
  a.first.resize(out);
  a.count.resize(out);
  a.w.assign(out * a.taps, 0.0f);
  std::vector<double> w((size_t)a.taps);
  for (int64_t o = 0; o < out; ++o) {
    const double center = ((double)o + 0.5) * scale;
    const int64_t lo = std::max<int64_t>((int64_t)(center - support + 0.5), 0);
    const int64_t n = std::min<int64_t>((int64_t)(center + support + 0.5), in) - lo;
    double total = 0;
    for (int64_t k = 0; k < n; ++k) {
      w[k] = std::max(0.0, 1.0 - std::abs(((double)(k + lo) - center + 0.5) / filter_scale));
      total += w[k];
    }
    a.first[o] = lo;
    a.count[o] = n;
    for (int64_t k = 0; k < n; ++k) a.w[o * a.taps + k] = (float)(total > 0 ? w[k] / total : 0.0);
  }
  return a;
}

}  // namespace

// Separable: rows first (into [C, H, width]), then columns.
Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width) {
  Tensor x = checked_image(image, "resize_bilinear");
  TG_CHECK(height > 0 && width > 0, "resize_bilinear", "size must be positive, got {}x{}", height, width);
  const int64_t C = x.size(0), H = x.size(1), W = x.size(2);
  TG_CHECK(H > 0 && W > 0, "resize_bilinear", "cannot resize an empty image {}", shape_str(x.shape()));
  if (H == height && W == width) return x;
  const AxisTaps tx = bilinear_taps(W, width), ty = bilinear_taps(H, height);
  std::vector<float> mid((size_t)(C * H * width));
  const float* src = x.data<float>();
  for (int64_t r = 0; r < C * H; ++r)
    for (int64_t o = 0; o < width; ++o) {
      const float* in = src + r * W + tx.first[o];
      const float* w = tx.w.data() + o * tx.taps;
      float acc = 0;
      for (int64_t k = 0; k < tx.count[o]; ++k) acc += w[k] * in[k];
      mid[r * width + o] = acc;
    }
  Tensor out = empty({C, height, width}, kFloat32);
  float* dst = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t o = 0; o < height; ++o) {
      float* row = dst + (c * height + o) * width;
      std::fill(row, row + width, 0.0f);
      const float* w = ty.w.data() + o * ty.taps;
      for (int64_t k = 0; k < ty.count[o]; ++k) {
        const float* in = mid.data() + (c * H + ty.first[o] + k) * width;
        for (int64_t j = 0; j < width; ++j) row[j] += w[k] * in[j];
      }
    }
  return out;
}

Resize::Resize(int64_t size) : size_(size) { TG_CHECK(size > 0, "Resize", "size must be positive, got {}", size); }

Tensor Resize::operator()(const Tensor& image, SampleRng&) const {
  Tensor x = checked_image(image, "Resize");
  const int64_t H = x.size(1), W = x.size(2);
  TG_CHECK(H > 0 && W > 0, "Resize", "cannot resize an empty image {}", shape_str(x.shape()));
  const int64_t longer = size_ * std::max(H, W) / std::min(H, W);
  return H <= W ? resize_bilinear(x, size_, longer) : resize_bilinear(x, longer, size_);
}

static Tensor crop(const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width) {
  const int64_t C = x.size(0), H = x.size(1), W = x.size(2);
  Tensor out = empty({C, height, width}, kFloat32);
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < height; ++i)
      std::copy_n(src + (c * H + top + i) * W + left, width, dst + (c * height + i) * width);
  return out;
}

CenterCrop::CenterCrop(int64_t height, int64_t width) : height_(height), width_(width) {
  TG_CHECK(height > 0 && width > 0, "CenterCrop", "size must be positive, got {}x{}", height, width);
}

// out[c, i, j] = x[c, top + i, left + j]
Tensor CenterCrop::operator()(const Tensor& image, SampleRng&) const {
  Tensor x = checked_image(image, "CenterCrop");
  const int64_t H = x.size(1), W = x.size(2);
  TG_CHECK(height_ <= H && width_ <= W, "CenterCrop", "crop {}x{} is larger than the image {}", height_, width_,
           shape_str(x.shape()));
  const auto top = (int64_t)std::nearbyint((double)(H - height_) / 2.0);
  const auto left = (int64_t)std::nearbyint((double)(W - width_) / 2.0);
  return crop(x, top, left, height_, width_);
}

RandomResizedCrop::RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale,
                                     std::pair<double, double> ratio)
    : height_(height), width_(width), scale_(scale), ratio_(ratio) {
  TG_CHECK(height > 0 && width > 0, "RandomResizedCrop", "size must be positive, got {}x{}", height, width);
  TG_CHECK(0 < scale.first && scale.first <= scale.second && scale.second <= 1, "RandomResizedCrop",
           "scale must satisfy 0 < min <= max <= 1, got ({}, {})", scale.first, scale.second);
  TG_CHECK(0 < ratio.first && ratio.first <= ratio.second, "RandomResizedCrop",
           "ratio must satisfy 0 < min <= max, got ({}, {})", ratio.first, ratio.second);
}

RandomResizedCrop::Box RandomResizedCrop::box(int64_t H, int64_t W, SampleRng& rng) const {
  const double area = (double)H * (double)W;
  const double log_lo = std::log(ratio_.first), log_hi = std::log(ratio_.second);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (scale_.first + (scale_.second - scale_.first) * rng.uniform());
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * rng.uniform());
    const auto w = (int64_t)std::nearbyint(std::sqrt(target * aspect));
    const auto h = (int64_t)std::nearbyint(std::sqrt(target / aspect));
    if (0 < w && w <= W && 0 < h && h <= H) {
      const int64_t top = rng.randint(H - h + 1);
      return {top, rng.randint(W - w + 1), h, w};
    }
  }
  const double in_ratio = (double)W / (double)H;
  int64_t w = W, h = H;
  if (in_ratio < ratio_.first) h = (int64_t)std::nearbyint((double)w / ratio_.first);
  else if (in_ratio > ratio_.second) w = (int64_t)std::nearbyint((double)h * ratio_.second);
  return {(H - h) / 2, (W - w) / 2, h, w};
}

Tensor RandomResizedCrop::operator()(const Tensor& image, SampleRng& rng) const {
  Tensor x = checked_image(image, "RandomResizedCrop");
  TG_CHECK(x.size(1) > 0 && x.size(2) > 0, "RandomResizedCrop", "cannot crop an empty image {}", shape_str(x.shape()));
  const Box b = box(x.size(1), x.size(2), rng);
  return resize_bilinear(crop(x, b.top, b.left, b.height, b.width), height_, width_);
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
