#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <unistd.h>

#include "core/random.h"
#include "data/safetensors.h"
#include "layers/linear.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::testing;
namespace fs = std::filesystem;

namespace {





// The little-endian bytes of a value, spelled out byte by byte (independent of the
// host's byte order and of the library's writer).
template <class T> void put_le(Bytes& out, T value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back((uint8_t)(bits >> (8 * i)));
}

// A safetensors file from the spec: u64 header length, JSON header, data.
Bytes safetensors_bytes(const std::string& header, const Bytes& data) {
  Bytes out;
  put_le<uint64_t>(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}


}  // namespace

TEST_CASE("safetensors: reads a file written by hand from the spec") {
  TempDir dir("tg_safetensors");
  Bytes data;
  for (float v : {1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 7.0f}) put_le(data, v);  // "w": F32 [2, 3]
  for (double v : {3.141592653589793, -1e300}) put_le(data, v);           // "b": F64 [2]
  for (int64_t v : {int64_t(-5), int64_t(1) << 40}) put_le(data, v);         // "n": I64 [2]
  put_le(data, 42.0f);                                                        // "s": F32 [] (0-d)
  // Keys deliberately out of data order; "e" is empty; metadata anywhere.
  const std::string header =
      R"({"n":{"dtype":"I64","shape":[2],"data_offsets":[40,56]},"__metadata__":{"format":"pt","epoch":"3"},)"
      R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"e":{"dtype":"F32","shape":[0,4],"data_offsets":[56,56]},)"
      R"("b":{"dtype":"F64","shape":[2],"data_offsets":[24,40]},"s":{"dtype":"F32","shape":[],"data_offsets":[56,60]}}  )";
  write_bytes(dir / "hand.safetensors", safetensors_bytes(header, data));

  Metadata meta;
  NamedTensors t = load_safetensors(dir / "hand.safetensors", &meta);
  CHECK(meta == Metadata{{"format", "pt"}, {"epoch", "3"}});
  REQUIRE(t.size() == 5);
  CHECK(t[0].first == "w");
  CHECK(t[0].second.shape() == Shape{2, 3});
  CHECK(t[0].second.to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 7.0f});
  CHECK(std::signbit(t[0].second.to_vector<float>()[4]));
  CHECK(t[1].first == "b");
  CHECK(t[1].second.dtype() == kFloat64);
  CHECK(t[1].second.to_vector<double>() == std::vector<double>{3.141592653589793, -1e300});
  CHECK(t[2].first == "n");
  CHECK(t[2].second.to_vector<int64_t>() == std::vector<int64_t>{-5, int64_t(1) << 40});
  // "e" (empty) and "s" both start at 56: the empty one sorts first.
  CHECK(t[3].first == "e");
  CHECK(t[3].second.shape() == Shape{0, 4});
  CHECK(t[4].first == "s");
  CHECK(t[4].second.shape() == Shape{});
  CHECK(t[4].second.item() == 42.0);
}

TEST_CASE("safetensors: our files follow the spec byte for byte and round-trip") {
  TempDir dir("tg_safetensors");
  Tensor a = randn({3, 4}, kFloat32);
  a.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  a.data<float>()[1] = -std::numeric_limits<float>::infinity();
  Tensor b = randn({5}, kFloat64);
  Tensor idx = from_vector(std::vector<int64_t>{-1, 0, 9000000000}, {3});
  Tensor strided = a.t();  // non-contiguous: saved as its row-major values
  const NamedTensors in{{"layer.weight", a}, {"b", b}, {"idx", idx}, {"t", strided}, {"zero_d", scalar(2.5)}};
  const std::string path = dir / "m.safetensors";
  save_safetensors(path, in, {{"step", "12"}});

  // Parse the file by hand.
  const Bytes raw = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | raw[i];
  CHECK(n % 8 == 0);
  const auto header = nlohmann::json::parse(raw.begin() + 8, raw.begin() + 8 + (ptrdiff_t)n);
  CHECK(header["__metadata__"] == nlohmann::json{{"step", "12"}});
  CHECK(header["layer.weight"]["dtype"] == "F32");
  CHECK(header["layer.weight"]["shape"] == nlohmann::json{3, 4});
  CHECK(header["layer.weight"]["data_offsets"] == nlohmann::json{0, 48});
  CHECK(header["b"]["dtype"] == "F64");
  CHECK(header["b"]["data_offsets"] == nlohmann::json{48, 88});
  CHECK(header["idx"]["dtype"] == "I64");
  CHECK(header["t"]["shape"] == nlohmann::json{4, 3});
  CHECK(header["zero_d"]["shape"] == nlohmann::json::array());
  CHECK(raw.size() == 8 + n + 48 + 40 + 24 + 48 + 4);
  Bytes want;
  for (float v : strided.to_vector<float>()) put_le(want, v);
  const size_t t_begin = 8 + n + header["t"]["data_offsets"][0].get<size_t>();
  CHECK(Bytes(raw.begin() + (ptrdiff_t)t_begin, raw.begin() + (ptrdiff_t)t_begin + 48) == want);
  Bytes idx_bytes;
  for (int64_t v : idx.to_vector<int64_t>()) put_le(idx_bytes, v);
  CHECK(Bytes(raw.begin() + 8 + (ptrdiff_t)n + 88, raw.begin() + 8 + (ptrdiff_t)n + 112) == idx_bytes);

  Metadata meta;
  const NamedTensors out = load_safetensors(path, &meta);
  CHECK(meta == Metadata{{"step", "12"}});
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CAPTURE(in[i].first);
    CHECK(out[i].first == in[i].first);
    CHECK(out[i].second.shape() == in[i].second.shape());
    CHECK(out[i].second.dtype() == in[i].second.dtype());
    const Tensor c = in[i].second.contiguous();
    CHECK(std::memcmp(out[i].second.raw_data(), c.raw_data(), c.nbytes()) == 0);  // bit-exact, NaN included
  }
  // The write is atomic: only the final file is left in the directory, and a second
  // save replaces it.
  save_safetensors(path, {{"only", ones({2})}});
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  CHECK(load_safetensors(path).size() == 1);
}

TEST_CASE("safetensors: a module's state_dict round-trips into a fresh module") {
  TempDir dir("tg_safetensors");
  manual_seed(1);
  Linear a(3, 2);
  manual_seed(2);
  Linear b(3, 2);
  CHECK(b.weight.data().to_vector<float>() != a.weight.data().to_vector<float>());
  save_safetensors(dir / "lin.safetensors", a.state_dict());
  NamedTensors loaded = load_safetensors(dir / "lin.safetensors");
  CHECK(loaded[0].first == "weight");
  CHECK(loaded[1].first == "bias");
  b.load_state_dict(loaded);
  CHECK(b.weight.data().to_vector<float>() == a.weight.data().to_vector<float>());
  CHECK(b.bias.data().to_vector<float>() == a.bias.data().to_vector<float>());
}

TEST_CASE("safetensors: bad writes are errors and leave nothing behind") {
  TempDir dir("tg_safetensors");
  CHECK(error_of([&] { save_safetensors(dir / "x", {{"a", ones({1})}, {"a", ones({1})}}); }) ==
        "save_safetensors: '" + (dir / "x") + "': duplicate tensor name 'a'");
  CHECK(error_of([&] { save_safetensors(dir / "x", {{"__metadata__", ones({1})}}); }).find("invalid tensor name") !=
        std::string::npos);
  CHECK(error_of([&] { save_safetensors(dir / "x", {{"u", Tensor()}}); }).find("tensor 'u' is undefined") !=
        std::string::npos);
  CHECK(error_of([&] { save_safetensors(dir / "no/such/dir/x", {{"a", ones({1})}}); }).find("cannot create") !=
        std::string::npos);
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("safetensors: corrupt files name the file and the tensor") {
  TempDir dir("tg_safetensors");
  const std::string p = dir / "bad.safetensors";
  auto load_error = [&](const Bytes& b) {
    write_bytes(p, b);
    return error_of([&] { load_safetensors(p); });
  };
  const std::string pre = "load_safetensors: '" + p + "'";
  Bytes four;
  put_le(four, 1.0f);
  const std::string ok_tensor = R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";

  CHECK(load_error({1, 2, 3}) == pre + " is truncated: 3 bytes, fewer than the 8-byte header length");
  Bytes big = safetensors_bytes("{" + ok_tensor + "}", four);
  big[0] = 0xff;
  CHECK(load_error(big).find(pre + " is truncated: the header length is 255 bytes but only ") == 0);
  CHECK(load_error(safetensors_bytes("{\"w\": [1,", four)).find(pre + " has a bad header: ") == 0);
  CHECK(load_error(safetensors_bytes("[1, 2]", {})) == pre + " has a bad header: expected a JSON object");
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[1]}})", four)) ==
        pre + " has a bad header: tensor 'w' needs dtype, shape and data_offsets");
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four)) ==
        pre + " has a bad header: tensor 'w' has a shape that is not a list of non-negative integers");
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", four)) ==
        "load_safetensors: '" + p + "': tensor 'w' has unsupported dtype BF16 (supported: F32, F64, I64)");
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four)) ==
        "load_safetensors: '" + p +
            "': tensor 'w' has data_offsets [0, 8] out of range: the data section has 4 bytes (file truncated?)");
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}})", four)) ==
        "load_safetensors: '" + p + "': tensor 'w' has data_offsets [0, 4] (4 bytes), but shape [1] of F64 needs 8 bytes");
  Bytes eight = four;
  put_le(eight, 2.0f);
  CHECK(load_error(safetensors_bytes(
            R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            eight))
            .find("tensors overlap or leave a hole") != std::string::npos);
  CHECK(load_error(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)) ==
        "load_safetensors: '" + p +
            "': tensor 'w' starts at byte 4 of the data section, expected 0 (tensors overlap or leave a hole)");
  CHECK(load_error(safetensors_bytes("{" + ok_tensor + "}", eight)) == pre + " has 4 bytes after the last tensor's data");
  CHECK(load_error(safetensors_bytes(R"({"__metadata__":{"a":1},)" + ok_tensor + "}", four)) ==
        pre + " has a bad header: metadata 'a' is not a string");

  // A real file cut short inside its data.
  const std::string q = dir / "cut.safetensors";
  save_safetensors(q, {{"a", ones({4})}, {"b", ones({100}, kFloat64)}});
  Bytes raw = read_bytes(q);
  raw.erase(raw.end() - 10, raw.end());
  write_bytes(q, raw);
  CHECK(error_of([&] { load_safetensors(q); }).find("'" + q + "': tensor 'b' has data_offsets [16, 816] out of range") !=
        std::string::npos);
  CHECK(error_of([&] { load_safetensors(dir / "missing"); }).find("cannot open '" + (dir / "missing") + "'") !=
        std::string::npos);
}
