// Image decoding through ImageFolder (stb_image: PNG and JPEG, then the resize).
// Input: 2 bytes choosing the output size (height, width in 1..32, so that both the
// resize and the same-size path run), then the image file.
#include "data/image_folder.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto root = tg::fuzz::scratch_dir() / "images";
  std::filesystem::create_directories(root / "class");
  tg::fuzz::write_file(root / "class" / "image.png", data + 2, size - 2);
  tg::fuzz::expect_tg_error_or_success([&] {
    tg::ImageFolder ds(root.string(), 1 + data[0] % 32, 1 + data[1] % 32);
    ds[0];
  });
  return 0;
}
