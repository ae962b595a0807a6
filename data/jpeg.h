#pragma once
// JPEG decoding through libjpeg-turbo (Debian's libjpeg62-turbo): faster than
// stb_image's decoder and without its undefined behaviour on corrupt files (found by
// fuzzing, tests/fuzz). libjpeg's errors come back as tg::Errors, never exit().
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tg {

// An 8-bit RGB image: pixels[(y · width + x) · 3 + c].
struct RgbImage {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;
};

// Whether the bytes start as a JPEG does (the start-of-image marker FF D8 FF).
bool is_jpeg(const uint8_t* data, size_t size);

// At most this many pixels (8192 × 8192) per image: a larger header is refused before
// anything is allocated, so that a few corrupt bytes cannot ask for gigabytes.
inline constexpr int64_t kMaxJpegPixels = int64_t(1) << 26;
// At most this many scans per progressive file (common ones have about 10): each scan
// costs a pass over the image, so more only make a small file slow to decode.
inline constexpr int kMaxJpegScans = 500;

// Decodes a JPEG (baseline, progressive or arithmetic-coded; grey, YCbCr, RGB, CMYK or
// YCCK, CMYK inverted as Adobe writes it and stb_image reads it) to RGB.
// Requires: data holds the whole file. Errors: "<op>: cannot decode image '<path>':
// <cause>", the cause in libjpeg's words, for a malformed header, a file cut off or
// corrupt inside its picture data (where libjpeg itself only warns and fills in grey),
// more than kMaxJpegScans scans or more than kMaxJpegPixels pixels. Warnings about
// metadata (an unknown JFIF version, a bad ICC profile, stray bytes between markers)
// are ignored, as other decoders do.
RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& path, const char* op);

}  // namespace tg
