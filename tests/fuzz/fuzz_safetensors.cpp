// load_safetensors on arbitrary bytes: the 8-byte length, the JSON header (fields,
// types, offsets, metadata) and the data section.
#include "data/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = tg::fuzz::scratch_dir() / "input.safetensors";
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::expect_tg_error_or_success([&] {
    tg::Metadata meta;
    tg::load_safetensors(path.string(), &meta);
  });
  return 0;
}
