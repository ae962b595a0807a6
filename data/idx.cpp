#include "data/idx.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <zlib.h>

namespace tg {

namespace {

// The whole (decompressed) content; `gz_error` is set when zlib stops on an error,
// which for a cut-off .gz is "unexpected end of file".
std::vector<uint8_t> read_gz_or_raw(const std::string& path, std::string* gz_error) {
  gzFile f = gzopen(path.c_str(), "rb");
  TG_CHECK(f != nullptr, "read_idx", "cannot open '{}': {}", path, std::strerror(errno));
  // zlib's buffers (1 MiB in, 2 MiB out) only for files that need them: a small
  // file's reads would be dominated by allocating them (seen when fuzzing, tests/fuzz).
  std::error_code ec;
  const uintmax_t on_disk = std::filesystem::file_size(path, ec);
  if (!ec && on_disk > (1 << 16)) gzbuffer(f, 1 << 20);
  // The first read asks for the size on disk (the whole of a raw file, a start for a
  // gzip one), later ones for as much as was read so far: the zero-filled growth of the
  // vector stays proportional to the content.
  std::vector<uint8_t> out;
  size_t chunk = ec ? (1 << 16) : (size_t)on_disk + 1;
  for (;;) {
    const size_t old = out.size();
    chunk = std::clamp<size_t>(std::max(chunk, old), 1 << 12, 1 << 30);
    out.resize(old + chunk);
    const int n = gzread(f, out.data() + old, (unsigned)chunk);
    out.resize(old + std::max(n, 0));
    if (n < (int)chunk) break;  // gzread fills the whole request unless the file ends or is corrupt
  }
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK) {
    *gz_error = msg;  // zlib prefixes the path, which the caller's message already names
    if (gz_error->starts_with(path + ": ")) gz_error->erase(0, path.size() + 2);
  }
  gzclose(f);
  return out;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

std::string first_existing(const std::string& root, const std::string& name) {
  for (const std::string& candidate : {root + "/" + name + ".gz", root + "/" + name})
    if (std::filesystem::exists(candidate)) return candidate;
  throw Error(fmt::format("MNIST: neither '{}/{}.gz' nor '{}/{}' exists", root, name, root, name));
}

// (images, labels) under root, looked up in that order.
std::pair<std::string, std::string> mnist_files(const std::string& root, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  std::string images = first_existing(root, prefix + "-images-idx3-ubyte");
  return {images, first_existing(root, prefix + "-labels-idx1-ubyte")};
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::string gz_error;
  std::vector<uint8_t> bytes = read_gz_or_raw(path, &gz_error);
  const std::string note = gz_error.empty() ? "" : fmt::format(" (gzip: {})", gz_error);
  const size_t n = bytes.size();
  TG_CHECK(n >= 4, "read_idx", "'{}' is truncated at byte {}: the header needs 4 bytes{}", path, n, note);
  const uint32_t magic = big_endian_u32(bytes.data());
  const int ndims = bytes[3];
  TG_CHECK(bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && ndims >= 1, "read_idx",
           "'{}' has bad magic number 0x{:08x} (expected 0x000008NN: unsigned bytes, NN ≥ 1 dimensions)", path, magic);
  const size_t header = 4 + 4 * (size_t)ndims;
  TG_CHECK(n >= header, "read_idx", "'{}' is truncated at byte {}: the header of {} dimensions needs {} bytes{}", path,
           n, ndims, header, note);
  IdxArray a;
  size_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t size = big_endian_u32(bytes.data() + 4 + 4 * d);
    a.dims.push_back(size);
    // Saturate so that absurd sizes read as "truncated" rather than overflowing.
    count = (size != 0 && count > (size_t(1) << 48) / size) ? (size_t(1) << 48) : count * size;
  }
  TG_CHECK(count > 0, "read_idx", "'{}' has wrong dims {}: a dimension is zero", path, shape_str(a.dims));
  TG_CHECK(n >= header + count, "read_idx", "'{}' is truncated at byte {}: dims {} need {} bytes{}", path, n,
           shape_str(a.dims), header + count, note);
  TG_CHECK(n == header + count && gz_error.empty(), "read_idx", "'{}' has {} bytes, but dims {} need {}{}", path, n,
           shape_str(a.dims), header + count, note);
  a.data.assign(bytes.begin() + (ptrdiff_t)header, bytes.end());
  return a;
}

MNIST::MNIST(const std::string& root, bool train) : MNIST(mnist_files(root, train)) {}

MNIST MNIST::from_files(const std::string& images_path, const std::string& labels_path) {
  return MNIST({images_path, labels_path});
}

MNIST::MNIST(const std::pair<std::string, std::string>& files) {
  const auto& [images_path, labels_path] = files;
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  TG_CHECK(images.dims.size() == 3, "MNIST", "'{}' has wrong dims {}: images need 3 (count, rows, cols)", images_path,
           shape_str(images.dims));
  TG_CHECK(labels.dims.size() == 1, "MNIST", "'{}' has wrong dims {}: labels need 1 (count)", labels_path,
           shape_str(labels.dims));
  TG_CHECK(images.dims[0] == labels.dims[0], "MNIST", "image count {} in '{}' ≠ label count {} in '{}'",
           images.dims[0], images_path, labels.dims[0], labels_path);
  for (size_t i = 0; i < labels.data.size(); ++i)
    TG_CHECK(labels.data[i] < 10, "MNIST", "'{}': label {} at index {} is out of range [0, 10)", labels_path,
             labels.data[i], i);
  height_ = images.dims[1];
  width_ = images.dims[2];
  pixels_ = std::move(images.data);
  labels_ = std::move(labels.data);
}

// x[0, h, w] = byte / 255 (a division, as torchvision's ToTensor)
Example MNIST::get(int64_t index, SampleRng&) const {
  check_index(index, size(), "MNIST");
  const int64_t n = height_ * width_;
  Tensor x = empty({1, height_, width_}, kFloat32);
  float* dst = x.data<float>();
  const uint8_t* src = pixels_.data() + index * n;
  for (int64_t i = 0; i < n; ++i) dst[i] = (float)src[i] / 255.0f;
  return {x, labels_[index]};
}

}  // namespace tg
