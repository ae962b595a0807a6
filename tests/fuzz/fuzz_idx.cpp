// read_idx on arbitrary bytes, raw or gzip (zlib reads both; the seeds hold both).
#include "data/idx.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = tg::fuzz::scratch_dir() / "input.idx";
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::expect_tg_error_or_success([&] { tg::read_idx(path.string()); });
  return 0;
}
