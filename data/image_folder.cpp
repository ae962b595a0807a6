#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

#include "data/file_bytes.h"
#include "data/jpeg.h"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>
#include <stb_image_resize.h>
// static: the tests link their own copy of stb_image_write as well.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace tg {

namespace fs = std::filesystem;

static bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return (char)std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

ImageFolder::ImageFolder(const std::string& root, int64_t height, int64_t width) : ImageFolder(root) {
  TG_CHECK(height > 0 && width > 0, "ImageFolder", "size must be positive, got {}x{}", height, width);
  height_ = height;
  width_ = width;
}

ImageFolder::ImageFolder(const std::string& root) {
  std::error_code ec;
  TG_CHECK(fs::is_directory(root, ec), "ImageFolder", "'{}' is not a directory", root);
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) classes_.push_back(entry.path().filename().string());
  std::sort(classes_.begin(), classes_.end());
  TG_CHECK(!classes_.empty(), "ImageFolder", "'{}' has no class folders (expected root/<class>/*.jpg)", root);
  for (size_t c = 0; c < classes_.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(root) / classes_[c]))
      if (entry.is_regular_file() && is_image(entry.path())) files.push_back(entry.path().string());
    TG_CHECK(!files.empty(), "ImageFolder", "class folder '{}' has no .jpg, .jpeg or .png files",
             (fs::path(root) / classes_[c]).string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) samples_.emplace_back(std::move(f), (int64_t)c);
  }
}

// Two flaws of stb_image 2.27's PNG reader, found by fuzzing (tests/fuzz), met before it
// reads the file (other files are left as they are). PNG chunks are 4 bytes of length,
// 4 of type, the data and a 4-byte CRC.
// - It copies a zero-length IDAT chunk that comes before any image data with
//   memcpy(NULL, p, 0), undefined behaviour (UBSan): such chunks hold no data, so they
//   are dropped and the image stays the same.
// - It allocates an IDAT chunk's declared length before reading it, so a 126-byte file
//   asked for 2 GiB only to fail on the missing data: a chunk that runs past the end of
//   the file is an error here.
// Like stb, the walk ends at IEND.
static void prepare_png_for_stb(std::vector<uint8_t>& b, const std::string& path) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 8 || std::memcmp(b.data(), kSignature, 8) != 0) return;
  for (size_t p = 8; p + 8 <= b.size();) {
    const uint32_t length = uint32_t(b[p]) << 24 | uint32_t(b[p + 1]) << 16 | uint32_t(b[p + 2]) << 8 | b[p + 3];
    if (std::memcmp(&b[p + 4], "IEND", 4) == 0) return;
    const bool idat = std::memcmp(&b[p + 4], "IDAT", 4) == 0;
    if (idat && length == 0) {
      b.erase(b.begin() + (ptrdiff_t)p, b.begin() + (ptrdiff_t)std::min(p + 12, b.size()));
      continue;
    }
    TG_CHECK(!idat || length <= b.size() - p - 8, "ImageFolder",
             "cannot decode image '{}': corrupt PNG (an IDAT chunk of {} bytes runs past the end of the file)", path,
             length);
    if (length > b.size() - p - 8) return;  // the last chunk, cut off
    p += 12 + (size_t)length;
  }
}

// x[c, h, w] = resized[h, w, c] / 255
Example ImageFolder::get(int64_t index, SampleRng&) const {
  check_index(index, size(), "ImageFolder");
  const std::string& path = samples_[index].first;
  std::vector<uint8_t> bytes = read_file_bytes(path, "ImageFolder");
  RgbImage image;
  if (is_jpeg(bytes.data(), bytes.size())) {
    image = decode_jpeg(bytes.data(), bytes.size(), path, "ImageFolder");
  } else {
    prepare_png_for_stb(bytes, path);
    int w = 0, h = 0, channels = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
        stbi_load_from_memory(bytes.data(), (int)bytes.size(), &w, &h, &channels, 3), &stbi_image_free);
    TG_CHECK(pixels != nullptr, "ImageFolder", "cannot decode image '{}': {}", path, stbi_failure_reason());
    image = {h, w, std::vector<uint8_t>(pixels.get(), pixels.get() + (size_t)h * w * 3)};
  }
  const int64_t h = image.height, w = image.width;
  const int64_t H = height_ > 0 ? height_ : h, W = width_ > 0 ? width_ : w;
  std::vector<uint8_t> resized;
  const uint8_t* src = image.pixels.data();
  if (h != H || w != W) {
    resized.resize(H * W * 3);
    TG_CHECK(stbir_resize_uint8(src, (int)w, (int)h, 0, resized.data(), (int)W, (int)H, 0, 3), "ImageFolder",
             "cannot resize image '{}' from {}x{} to {}x{}", path, h, w, H, W);
    src = resized.data();
  }
  Tensor x = empty({3, H, W}, kFloat32);
  float* dst = x.data<float>();
  const int64_t plane = H * W;
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < 3; ++c) dst[c * plane + i] = (float)src[i * 3 + c] / 255.0f;
  return {x, samples_[index].second};
}

// png[h, w, c] = round(255 · clamp(x[c, h, w], 0, 1))
void write_png(const std::string& path, const Tensor& image) {
  TG_CHECK(image.defined() && image.dtype() == kFloat32 && image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3) &&
               image.size(1) > 0 && image.size(2) > 0,
           "write_png", "{}: expected a float32 [1 or 3, H, W] image, got {}", path,
           image.defined() ? fmt::format("{} {}", dtype_name(image.dtype()), shape_str(image.shape())) : "undefined");
  const Tensor x = image.cpu().contiguous();
  const int64_t C = x.size(0), H = x.size(1), W = x.size(2), plane = H * W;
  std::vector<uint8_t> bytes((size_t)(C * plane));
  const float* src = x.data<float>();
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < C; ++c)
      bytes[i * C + c] = (uint8_t)std::lround(255.0f * std::clamp(src[c * plane + i], 0.0f, 1.0f));
  TG_CHECK(stbi_write_png(path.c_str(), (int)W, (int)H, (int)C, bytes.data(), (int)(W * C)), "write_png",
           "{}: cannot write the file", path);
}

}  // namespace tg
