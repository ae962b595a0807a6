// The CIFAR-10 binary reader on arbitrary bytes, then every example read.
#include "data/cifar.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = tg::fuzz::scratch_dir() / "batch.bin";
  tg::fuzz::write_file(path, data, size);
  tg::fuzz::expect_tg_error_or_success([&] {
    tg::CIFAR10 ds = tg::CIFAR10::from_files({path.string()});
    for (int64_t i = 0; i < ds.size(); ++i) ds[i];
  });
  return 0;
}
