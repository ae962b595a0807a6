// decode_jpeg (data/jpeg.h): libjpeg-turbo's decoder behind tg::Errors. The test files
// are written here with libjpeg's own encoder: baseline and progressive, grey, YCbCr
// and Adobe CMYK, then cut off, enlarged or given too many scans.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

#include <jpeglib.h>

#include "data/image_folder.h"
#include "data/jpeg.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::testing;

namespace {

// A JPEG of width × height samples of `components` channels in `space`, quality 100,
// stored in the colour space libjpeg picks for `space` or in `stored`.
Bytes encode(const Bytes& samples, int width, int height, int components, J_COLOR_SPACE space, bool progressive,
             J_COLOR_SPACE stored = JCS_UNKNOWN) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = width;
  c.image_height = height;
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  if (stored != JCS_UNKNOWN) jpeg_set_colorspace(&c, stored);
  jpeg_set_quality(&c, 100, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(&samples[(size_t)c.next_scanline * width * components]);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes bytes(out, out + size);
  std::free(out);
  return bytes;
}

// Smooth colours up to 241 for 20 × 12 pixels (JPEG at quality 100 keeps them within a
// few levels).
Bytes gradient(int width, int height, int components) {
  Bytes s((size_t)width * height * components);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < components; ++c) s[((size_t)y * width + x) * components + c] = (uint8_t)(40 + 3 * x + 4 * y + 50 * c);
  return s;
}

int max_difference(const Bytes& a, const Bytes& b) {
  REQUIRE(a.size() == b.size());
  int d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs((int)a[i] - (int)b[i]));
  return d;
}

RgbImage decode(const Bytes& b) { return decode_jpeg(b.data(), b.size(), "x.jpg", "ImageFolder"); }

// Position of the first marker 0xFF m in b at or after `from`.
size_t find_marker(const Bytes& b, uint8_t m, size_t from = 0) {
  for (size_t i = from; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == m) return i;
  FAIL("marker not found");
  return 0;
}

// The first scan of a JPEG: its SOS segment and entropy-coded data, up to the next
// marker (0xFF followed by neither a stuffed 0x00 nor a restart marker).
Bytes first_scan(const Bytes& b) {
  const size_t sos = find_marker(b, 0xDA);
  size_t end = sos + 2 + (size_t(b[sos + 2]) << 8 | b[sos + 3]);
  while (end + 1 < b.size() && !(b[end] == 0xFF && b[end + 1] != 0x00 && (b[end + 1] < 0xD0 || b[end + 1] > 0xD7))) ++end;
  return Bytes(b.begin() + (long)sos, b.begin() + (long)end);
}

}  // namespace

TEST_CASE("jpeg: baseline and progressive, colour and grey, decode to the encoder's pixels") {
  const int W = 20, H = 12;
  const Bytes rgb = gradient(W, H, 3), grey = gradient(W, H, 1);
  for (bool progressive : {false, true}) {
    CAPTURE(progressive);
    const RgbImage c = decode(encode(rgb, W, H, 3, JCS_RGB, progressive));
    CHECK(c.height == H);
    CHECK(c.width == W);
    CHECK(max_difference(c.pixels, rgb) <= 3);
    // Grey comes back as three equal channels.
    const RgbImage g = decode(encode(grey, W, H, 1, JCS_GRAYSCALE, progressive));
    Bytes expanded;
    for (uint8_t v : grey) expanded.insert(expanded.end(), {v, v, v});
    CHECK(max_difference(g.pixels, expanded) <= 1);
  }
  CHECK(is_jpeg(encode(grey, W, H, 1, JCS_GRAYSCALE, false).data(), 3));
  const Bytes png_start{0x89, 'P', 'N', 'G'};
  CHECK_FALSE(is_jpeg(png_start.data(), png_start.size()));
}

TEST_CASE("jpeg: Adobe CMYK and YCCK become RGB as (C·K, M·K, Y·K) / 255, as stb_image reads them") {
  const int W = 16, H = 8;
  Bytes cmyk((size_t)W * H * 4);
  for (size_t i = 0; i < (size_t)W * H; ++i) {
    const uint8_t px[4] = {200, 120, 60, 128};  // inverted, as Adobe writes CMYK
    std::copy(px, px + 4, &cmyk[4 * i]);
  }
  const uint8_t expected[3] = {100, 60, 30};  // 200·128/255 = 100.4, 120·128/255 = 60.2, 60·128/255 = 30.1
  for (J_COLOR_SPACE stored : {JCS_CMYK, JCS_YCCK}) {
    CAPTURE(stored);
    const RgbImage im = decode(encode(cmyk, W, H, 4, JCS_CMYK, false, stored));  // Adobe transform 0 or 2
    REQUIRE(im.pixels.size() == (size_t)W * H * 3);
    for (size_t i = 0; i < (size_t)W * H; ++i)
      for (int c = 0; c < 3; ++c) CHECK(std::abs((int)im.pixels[3 * i + c] - expected[c]) <= 2);
  }
}

TEST_CASE("jpeg: a file cut off, corrupt, too large or with too many scans is an error naming the file and cause") {
  const int W = 20, H = 12;
  const Bytes rgb = gradient(W, H, 3);
  const Bytes whole = encode(rgb, W, H, 3, JCS_RGB, false);
  const std::string prefix = "ImageFolder: cannot decode image 'x.jpg': ";
  // Cut inside the picture data: libjpeg alone would warn and fill the rest with grey.
  const size_t mid_scan = (find_marker(whole, 0xDA) + whole.size()) / 2;
  CHECK(error_of([&] { decode(Bytes(whole.begin(), whole.begin() + (long)mid_scan)); }) ==
        prefix + "Corrupt JPEG data: premature end of data segment");
  CHECK(error_of([&] { decode(Bytes(whole.begin(), whole.begin() + 2)); }) == prefix + "JPEG datastream contains no image");
  CHECK(error_of([&] { decode(Bytes{}); }) == prefix + "Empty input file");
  // The end marker alone missing is not an error: every row is there.
  CHECK(decode(Bytes(whole.begin(), whole.end() - 2)).pixels.size() == rgb.size());

  // A start-of-frame header of 8193 × 8193 (just over 2^26 pixels), data for 64 × 64.
  Bytes large = whole;
  const size_t sof = find_marker(large, 0xC0);
  for (size_t at : {sof + 5, sof + 7}) large[at] = 0x20, large[at + 1] = 0x01;
  CHECK(error_of([&] { decode(large); }) == prefix + "8193x8193 pixels is more than 67108864");

  // A progressive file whose first scan (DC coefficients) comes 501 times. The repeats
  // alone only draw warnings about the progression, which are ignored.
  const Bytes prog = encode(rgb, W, H, 3, JCS_RGB, true);
  const Bytes scan = first_scan(prog);
  const size_t after = find_marker(prog, 0xDA) + scan.size();
  auto repeated = [&](int times) {
    Bytes b(prog.begin(), prog.begin() + (long)after);
    for (int i = 1; i < times; ++i) b.insert(b.end(), scan.begin(), scan.end());
    b.insert(b.end(), prog.begin() + (long)after, prog.end());
    return b;
  };
  CHECK(max_difference(decode(repeated(kMaxJpegScans - 20)).pixels, rgb) <= 3);
  CHECK(error_of([&] { decode(repeated(kMaxJpegScans + 1)); }) == prefix + "more than 500 scans");
}

TEST_CASE("jpeg: the inputs that broke stb_image's decoder are errors from libjpeg, through ImageFolder") {
  // tests/fuzz/regressions/image_folder: 2 bytes of output size, then the file. stb_image
  // 2.27 wrote past a Huffman table (3508 codes; counts running into the end marker)
  // and shifted a 32-bit value by 33 (stbi__grow_buffer_unsafe).
  const std::pair<const char*, const char*> cases[] = {
      {"stb_huffman_table_overflow.jpg", "Bogus Huffman table definition"},
      {"stb_huffman_table_at_eof.jpg", "Bogus Huffman table definition"},
      {"stb_grow_buffer_shift33.jpg", "Corrupt JPEG data: premature end of data segment"},
  };
  for (const auto& c : cases) {
    const std::string name = c.first, cause = c.second;
    CAPTURE(name);
    const Bytes input = read_bytes(std::string(TG_SOURCE_DIR "/tests/fuzz/regressions/image_folder/") + name);
    REQUIRE(input.size() > 2);
    TempDir dir("tg_jpeg");
    std::filesystem::create_directories(dir.path / "class");
    const std::string path = (dir.path / "class" / "image.jpg").string();
    write_bytes(path, Bytes(input.begin() + 2, input.end()));
    ImageFolder ds(dir.path.string(), 4, 4);
    CHECK(error_of([&] { ds[0]; }) == "ImageFolder: cannot decode image '" + path + "': " + cause);
  }
}
