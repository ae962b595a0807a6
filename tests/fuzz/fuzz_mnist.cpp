// The MNIST pair: an images file and a labels file checked against each other, then
// every example read. Input: a 2-byte little-endian length L, L bytes of the images
// file (fewer if the input ends first), the rest is the labels file.
#include <algorithm>

#include "data/idx.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t images_size = std::min<size_t>(data[0] | data[1] << 8, size - 2);
  const auto images = tg::fuzz::scratch_dir() / "images-idx3-ubyte";
  const auto labels = tg::fuzz::scratch_dir() / "labels-idx1-ubyte";
  tg::fuzz::write_file(images, data + 2, images_size);
  tg::fuzz::write_file(labels, data + 2 + images_size, size - 2 - images_size);
  tg::fuzz::expect_tg_error_or_success([&] {
    tg::MNIST ds = tg::MNIST::from_files(images.string(), labels.string());
    for (int64_t i = 0; i < ds.size(); ++i) ds[i];
  });
  return 0;
}
