// Malformed inputs found while fuzzing the readers (tests/fuzz): each one ends in a
// tg::Error that names the cause, and a failed load changes nothing.
#include <doctest/doctest.h>

#include <limits>
#include <sys/stat.h>
#include <thread>

#include "core/random.h"
#include "data/file_bytes.h"
#include "data/image_folder.h"
#include "data/safetensors.h"
#include "layers/linear.h"
#include "optim/adam.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;
namespace fs = std::filesystem;

TEST_CASE("reader hardening: safetensors shapes whose products overflow are refused, zero-sized ones included") {
  TempDir dir("tg_reader_hardening");
  const std::string p = dir / "dims.safetensors";
  auto load_error = [&](const std::string& shape) {
    const std::string header = R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,0]}})";
    Bytes b;
    for (int i = 0; i < 8; ++i) b.push_back((uint8_t)(header.size() >> (8 * i)));
    b.insert(b.end(), header.begin(), header.end());
    write_bytes(p, b);
    return error_of([&] { load_safetensors(p); });
  };
  const std::string refused =
      "load_safetensors: '" + p + "' has a bad header: tensor 'w' has a shape of more than 2^56 elements";
  CHECK(load_error("[1099511627776,1099511627776,0]") == refused);  // 2^40 · 2^40 · 0
  CHECK(load_error("[18446744073709551615,0]") == refused);         // 2^64 − 1
  CHECK(load_error("[0,72057594037927937]") == refused);            // 2^56 + 1
  CHECK(load_error("[72057594037927936,0]") == "no error");          // 2^56 · 0: empty, allowed
}

TEST_CASE("reader hardening: a malformed optimizer state is an error and leaves the optimizer as it was") {
  Generator g(5);
  Linear layer(3, 2);
  Adam opt(layer.parameters());
  for (auto& p : layer.parameters()) p.set_grad(randn(p.shape(), kFloat32, &g));
  opt.step();
  const NamedTensors before = opt.state_dict();
  auto state_with = [&](const std::string& name, const Tensor& t) {
    NamedTensors s = before;
    for (auto& [n, v] : s)
      if (n == "state.0.exp_avg") n = name, v = t;
    return s;
  };
  const Tensor w = before[1].second;
  CHECK(error_of([&] { opt.load_state_dict(state_with("state.x.exp_avg", w)); }) ==
        "Adam: unexpected optimizer tensor 'state.x.exp_avg': 'x' is not a parameter index");
  CHECK(error_of([&] { opt.load_state_dict(state_with("state..exp_avg", w)); }) ==
        "Adam: unexpected optimizer tensor 'state..exp_avg': '' is not a parameter index");
  CHECK(error_of([&] { opt.load_state_dict(state_with("state.99999999999999999999.exp_avg", w)); }) ==
        "Adam: unexpected optimizer tensor 'state.99999999999999999999.exp_avg': '99999999999999999999' is not a "
        "parameter index");
  CHECK(error_of([&] { opt.load_state_dict(state_with("state.7.exp_avg", w)); }) ==
        "Adam: optimizer tensor 'state.7.exp_avg' names parameter 7 of 2");
  auto step_error = [&](double v) {
    NamedTensors s = before;
    s[0].second = scalar(v, kFloat64);
    return error_of([&] { opt.load_state_dict(s); });
  };
  CHECK(step_error(1e300) == "Adam: optimizer 'step' is 1e+300, expected a non-negative integer");
  CHECK(step_error(-1) == "Adam: optimizer 'step' is -1, expected a non-negative integer");
  CHECK(step_error(2.5) == "Adam: optimizer 'step' is 2.5, expected a non-negative integer");
  CHECK(step_error(std::numeric_limits<double>::quiet_NaN()) ==
        "Adam: optimizer 'step' is nan, expected a non-negative integer");
  // None of the failed loads touched the state.
  const NamedTensors after = opt.state_dict();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].first == before[i].first);
    CHECK(after[i].second.to_vector<double>() == before[i].second.to_vector<double>());
  }
}

TEST_CASE("reader hardening: read_file_bytes returns every byte of empty, small and multi-MiB files and of a pipe") {
  TempDir dir("tg_reader_hardening");
  Bytes big((3 << 20) + 5);
  for (size_t i = 0; i < big.size(); ++i) big[i] = (uint8_t)(i * 2654435761u >> 13);
  for (size_t n : {size_t(0), size_t(1), size_t(100), big.size()}) {
    CAPTURE(n);
    const Bytes b(big.begin(), big.begin() + (long)n);
    write_bytes(dir / "f.bin", b);
    CHECK(read_file_bytes(dir / "f.bin", "test") == b);
  }
  // A FIFO has no size to start from: it is read in chunks until its writer closes it.
  const std::string fifo = dir / "fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { write_bytes(fifo, big); });
  const Bytes got = read_file_bytes(fifo, "test");
  writer.join();
  CHECK(got == big);
  CHECK(error_of([&] { read_file_bytes(dir / "none", "test"); }) ==
        "test: cannot open '" + (dir / "none") + "': No such file or directory");
}

TEST_CASE("reader hardening: a PNG's IDAT chunk that runs past the end of the file is refused before stb_image") {
  // The fuzzer's input (tests/fuzz/regressions/image_folder): 2 bytes of output size, then
  // a 126-byte PNG with an IDAT chunk of 1328087346 bytes, for which stb_image 2.27 would
  // allocate 2 GiB before finding them missing (libFuzzer: out-of-memory, malloc(2147483648)).
  TempDir dir("tg_reader_hardening");
  std::filesystem::create_directories(dir.path / "class");
  const std::string path = dir / "class/image.png";
  const Bytes input = read_bytes(TG_SOURCE_DIR "/tests/fuzz/regressions/image_folder/stb_png_idat_past_end.png");
  REQUIRE(input.size() > 2);
  write_bytes(path, Bytes(input.begin() + 2, input.end()));
  ImageFolder ds(dir.path.string(), 4, 4);
  CHECK(error_of([&] { ds[0]; }) == "ImageFolder: cannot decode image '" + path +
                                        "': corrupt PNG (an IDAT chunk of 1328087346 bytes runs past the end of the file)");
}

TEST_CASE("reader hardening: a PNG's empty IDAT chunks are dropped before stb_image, which copied them from NULL") {
  TempDir dir("tg_reader_hardening");
  std::filesystem::create_directories(dir.path / "class");
  const std::string path = dir / "class/image.png";
  // A 2x3 RGB PNG, then the same file with an empty IDAT before its data and another
  // before IEND, and trailing bytes: the same pixels.
  std::vector<float> expected(18);  // [3, 2, 3]: channel c of pixel i is (10 · (3i + c)) / 255
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 6; ++i) expected[c * 6 + i] = (float)(10 * (3 * i + c)) / 255.f;
  write_png(path, from_vector(expected, {3, 2, 3}));
  const Bytes png = read_bytes(path);
  const Bytes empty_idat{0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E};  // with its CRC
  const size_t after_ihdr = 8 + 12 + 13, iend = png.size() - 12;
  Bytes padded(png.begin(), png.begin() + (long)after_ihdr);
  padded.insert(padded.end(), empty_idat.begin(), empty_idat.end());
  padded.insert(padded.end(), png.begin() + (long)after_ihdr, png.begin() + (long)iend);
  padded.insert(padded.end(), empty_idat.begin(), empty_idat.end());
  padded.insert(padded.end(), png.begin() + (long)iend, png.end());
  // Bytes after IEND are not read, even one that looks like a huge IDAT chunk.
  padded.insert(padded.end(), {0x7F, 0xFF, 0xFF, 0xFF, 'I', 'D', 'A', 'T'});
  write_bytes(path, padded);
  ImageFolder ds(dir.path.string());
  CHECK(ds[0].data.to_vector<float>() == expected);
  // The fuzzer's input (tests/fuzz/regressions/image_folder): an empty IDAT, then
  // compressed data without a chunk header, read as a chunk of an unknown type (stb's
  // message starts with the type's 4 raw bytes).
  const Bytes input = read_bytes(TG_SOURCE_DIR "/tests/fuzz/regressions/image_folder/stb_png_empty_idat.png");
  write_bytes(path, Bytes(input.begin() + 2, input.end()));
  const std::string error = error_of([&] { ds[0]; });
  CHECK(error.starts_with("ImageFolder: cannot decode image '" + path + "': "));
  CHECK(error.ends_with(" PNG chunk not known"));
}
