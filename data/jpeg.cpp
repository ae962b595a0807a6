#include "data/jpeg.h"

#include <csetjmp>
#include <cstdio>
#include <vector>

#include <jpeglib.h>  // before jerror.h: its configuration decides jerror.h's codes
#include <jerror.h>

#include "core/error.h"

namespace tg {

bool is_jpeg(const uint8_t* data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

namespace {

// libjpeg's state, and where its errors go. libjpeg reports an error by calling
// error_exit, which must not return: ours formats the message and longjmps back into
// run(), whose frame holds no object with a destructor, so the jump skips only
// libjpeg's own C frames. Everything that must be freed lives here, in the caller's
// frame, and is freed by ~Decoder whether decoding finished or not.
struct Decoder {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  jpeg_progress_mgr progress{};
  std::jmp_buf on_error{};
  char message[JMSG_LENGTH_MAX] = "";
  std::vector<uint8_t> row;  // one CMYK row, converted to RGB

  ~Decoder() { jpeg_destroy_decompress(&cinfo); }  // a no-op before jpeg_create_decompress
};

[[noreturn]] void fail(j_common_ptr c) {
  auto* d = static_cast<Decoder*>(c->client_data);
  (*c->err->format_message)(c, d->message);
  std::longjmp(d->on_error, 1);
}

// Warnings (level −1) that mean the picture data itself is missing or corrupt are
// errors; the rest, and trace messages (level ≥ 0), are dropped (the default prints them).
// The end of the file alone ("Premature end of JPEG file") is not an error: a file
// without its end marker has every row; one cut inside a scan also hits the marker
// libjpeg then inserts ("premature end of data segment").
void on_message(j_common_ptr c, int level) {
  if (level != -1) return;
  switch (c->err->msg_code) {
    case JWRN_HIT_MARKER:     // "Corrupt JPEG data: premature end of data segment"
    case JWRN_HUFF_BAD_CODE:  // "Corrupt JPEG data: bad Huffman code"
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:  // a restart marker missing or out of order
      fail(c);
    default:
      return;
  }
}

void on_progress(j_common_ptr c) {
  auto* d = static_cast<Decoder*>(c->client_data);
  const int scans = reinterpret_cast<j_decompress_ptr>(c)->input_scan_number;
  if (scans <= kMaxJpegScans) return;
  std::snprintf(d->message, sizeof d->message, "more than %d scans", kMaxJpegScans);
  std::longjmp(d->on_error, 1);
}

// (x · y) / 255, rounded, as stb_image's stbi__blinn_8x8.
uint8_t times_over_255(int x, int y) {
  const int t = x * y + 128;
  return (uint8_t)((t + (t >> 8)) >> 8);
}

bool run(Decoder& d, const uint8_t* data, size_t size, RgbImage& out) {
  jpeg_decompress_struct& cinfo = d.cinfo;
  cinfo.err = jpeg_std_error(&d.err);
  d.err.error_exit = fail;
  d.err.emit_message = on_message;
  cinfo.client_data = &d;
  if (setjmp(d.on_error)) return false;
  jpeg_create_decompress(&cinfo);  // keeps err and client_data
  d.progress.progress_monitor = on_progress;
  cinfo.progress = &d.progress;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if ((int64_t)cinfo.image_width * cinfo.image_height > kMaxJpegPixels) {
    std::snprintf(d.message, sizeof d.message, "%ux%u pixels is more than %lld", cinfo.image_height,
                  cinfo.image_width, (long long)kMaxJpegPixels);
    return false;
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg turns YCCK into CMYK
  jpeg_start_decompress(&cinfo);
  const size_t W = cinfo.output_width, row_bytes = 3 * W;
  out.width = W;
  out.height = cinfo.output_height;
  if (cmyk) d.row.resize(4 * W);
  // Rows are stored as they are decoded, so a header promising more than the data
  // holds fails (cut off) before its whole image is allocated.
  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t y = cinfo.output_scanline;
    out.pixels.resize((y + 1) * row_bytes);
    uint8_t* rgb = out.pixels.data() + y * row_bytes;
    JSAMPROW dst = cmyk ? d.row.data() : rgb;
    jpeg_read_scanlines(&cinfo, &dst, 1);
    if (cmyk)
      for (size_t x = 0; x < W; ++x) {
        const uint8_t* p = &d.row[4 * x];
        for (int c = 0; c < 3; ++c) rgb[3 * x + c] = times_over_255(p[c], p[3]);
      }
  }
  // What follows the last row (the end marker) is not needed: ~Decoder ends the decode.
  return true;
}

}  // namespace

// rgb[y, x, c] = the decoded sample, or (C · K / 255, M · K / 255, Y · K / 255) for CMYK
RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& path, const char* op) {
  Decoder d;
  RgbImage out;
  TG_CHECK(run(d, data, size, out), op, "cannot decode image '{}': {}", path, d.message);
  return out;
}

}  // namespace tg
