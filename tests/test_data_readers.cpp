#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <random>
#include <unistd.h>
#include <zlib.h>

// stb_image_write is C written for C; its `= {0}` initializers trip -Wextra in C++.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "data/cifar.h"
#include "data/dataloader.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::testing;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with its contents.



void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), (unsigned)b.size()) == (int)b.size());
  gzclose(f);
}

// An IDX file of unsigned bytes built from its spec: 0 0 8 ndims, big-endian sizes, data.
Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes b{0, 0, 0x08, (uint8_t)dims.size()};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back((uint8_t)(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes iota_bytes(size_t n, int start = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = (uint8_t)((start + i) % 256);
  return b;
}


}  // namespace

TEST_CASE("data readers: IDX raw and gzip give the MNIST examples") {
  TempDir dir("tg_data_readers");
  const Bytes pixels = iota_bytes(3 * 2 * 2, 250);  // 250..255, then 0..5
  write_bytes(dir / "train-images-idx3-ubyte", idx_bytes({3, 2, 2}, pixels));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx_bytes({3}, {7, 0, 9}));
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_bytes({1, 2, 2}, {0, 51, 102, 255}));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes({1}, {4}));

  IdxArray a = read_idx(dir / "train-labels-idx1-ubyte.gz");
  CHECK(a.dims == Shape{3});
  CHECK(a.data == Bytes{7, 0, 9});

  MNIST train(dir.path.string(), true);
  REQUIRE(train.size() == 3);
  CHECK(train.height() == 2);
  Example e = train[1];
  CHECK(e.data.shape() == Shape{1, 2, 2});
  CHECK(e.data.to_vector<float>() == std::vector<float>{254 / 255.f, 255 / 255.f, 0, 1 / 255.f});
  CHECK(e.label == 0);
  CHECK(train[2].label == 9);
  MNIST test(dir.path.string(), false);
  REQUIRE(test.size() == 1);
  CHECK(test[0].data.to_vector<float>() == std::vector<float>{0, 0.2f, 0.4f, 1});
  CHECK(test[0].label == 4);
  CHECK_THROWS_WITH_AS(train[3], doctest::Contains("index 3 out of range"), Error);
  CHECK(error_of([&] { MNIST(dir / "nowhere", true); }) == "MNIST: neither '" + (dir / "nowhere/train-images-idx3-ubyte.gz") +
                                                              "' nor '" + (dir / "nowhere/train-images-idx3-ubyte") + "' exists");
}

TEST_CASE("data readers: corrupt IDX files name the file and the fault") {
  TempDir dir("tg_data_readers");
  const std::string img = dir / "img", lab = dir / "lab";
  write_bytes(lab, idx_bytes({2}, {1, 2}));

  write_bytes(img, {0, 0, 8});
  CHECK(error_of([&] { read_idx(img); }) == "read_idx: '" + img + "' is truncated at byte 3: the header needs 4 bytes");
  write_bytes(img, {0, 0, 0x0d, 3, 0, 0, 0, 1});
  CHECK(error_of([&] { read_idx(img); }).find("'" + img + "' has bad magic number 0x00000d03") != std::string::npos);
  write_bytes(img, {0x1f, 0x8b, 0x08, 0, 0, 0});  // a gzip header cut short
  CHECK(error_of([&] { read_idx(img); }) ==
        "read_idx: '" + img + "' is truncated at byte 0: the header needs 4 bytes (gzip: unexpected end of file)");
  Bytes cut = idx_bytes({2, 2, 2}, iota_bytes(8));
  cut.erase(cut.end() - 3, cut.end());
  write_bytes(img, cut);
  CHECK(error_of([&] { read_idx(img); }) ==
        "read_idx: '" + img + "' is truncated at byte 21: dims [2, 2, 2] need 24 bytes");
  write_bytes(img, idx_bytes({2, 2}, iota_bytes(5)));
  CHECK(error_of([&] { read_idx(img); }).find("has 17 bytes, but dims [2, 2] need 16") != std::string::npos);
  write_bytes(img, idx_bytes({2, 0, 2}, {}));
  CHECK(error_of([&] { read_idx(img); }).find("has wrong dims [2, 0, 2]: a dimension is zero") != std::string::npos);
  CHECK(error_of([&] { read_idx(dir / "missing"); }).find("cannot open '" + (dir / "missing") + "'") !=
        std::string::npos);

  // A truncated gzip stream: the decompressed prefix is short and zlib says why.
  const std::string gz = dir / "img.gz";
  write_gz(gz, idx_bytes({50, 28, 28}, iota_bytes(50 * 28 * 28)));
  Bytes whole;
  {
    std::ifstream f(gz, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(f), {});
  }
  write_bytes(gz, Bytes(whole.begin(), whole.begin() + (ptrdiff_t)whole.size() / 2));
  const std::string msg = error_of([&] { read_idx(gz); });
  CHECK(msg.find("'" + gz + "' is truncated at byte ") != std::string::npos);
  CHECK(msg.find("dims [50, 28, 28] need 39216 bytes (gzip: unexpected end of file)") != std::string::npos);

  // Dataset-level checks.
  write_bytes(img, idx_bytes({2, 4}, iota_bytes(8)));
  CHECK(error_of([&] { MNIST::from_files(img, lab); }) ==
        "MNIST: '" + img + "' has wrong dims [2, 4]: images need 3 (count, rows, cols)");
  write_bytes(img, idx_bytes({3, 2, 2}, iota_bytes(12)));
  CHECK(error_of([&] { MNIST::from_files(img, lab); }) ==
        "MNIST: image count 3 in '" + img + "' ≠ label count 2 in '" + lab + "'");
  CHECK(error_of([&] { MNIST::from_files(lab, lab); }).find("'" + lab + "' has wrong dims [2]: images need 3") !=
        std::string::npos);
  write_bytes(img, idx_bytes({2, 2, 2}, iota_bytes(8)));
  write_bytes(lab, idx_bytes({2}, {3, 10}));
  CHECK(error_of([&] { MNIST::from_files(img, lab); }) ==
        "MNIST: '" + lab + "': label 10 at index 1 is out of range [0, 10)");
}

TEST_CASE("data readers: the real Fashion-MNIST files") {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(root + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipped");
    return;
  }
  FashionMNIST test(root, false);
  REQUIRE(test.size() == 10000);
  std::vector<int64_t> counts(10);
  for (int64_t i = 0; i < test.size(); ++i) ++counts[test[i].label];
  CHECK(counts == std::vector<int64_t>(10, 1000));
  // First test image: an ankle boot (class 9) whose 784 bytes sum to 33456, max 255.
  Example e = test[0];
  CHECK(e.data.shape() == Shape{1, 28, 28});
  CHECK(e.label == 9);
  double total = 0, hi = 0;
  for (float v : e.data.to_vector<float>()) total += v, hi = std::max<double>(hi, v);
  CHECK(total * 255 == doctest::Approx(33456).epsilon(1e-6));
  CHECK(hi == 1.0);
  CHECK(test[1].label == 2);
}

TEST_CASE("data readers: CIFAR-10 binary records") {
  TempDir dir("tg_data_readers");
  auto record = [](uint8_t label, int seed) {
    Bytes r{label};
    Bytes px = iota_bytes(3072, seed);
    r.insert(r.end(), px.begin(), px.end());
    return r;
  };
  Bytes f1 = record(3, 0), f2 = record(9, 100);
  const Bytes r2 = record(0, 7);
  f1.insert(f1.end(), r2.begin(), r2.end());
  write_bytes(dir / "a.bin", f1);
  write_bytes(dir / "test_batch.bin", f2);

  CIFAR10 ds = CIFAR10::from_files({dir / "a.bin", dir / "test_batch.bin"});
  REQUIRE(ds.size() == 3);
  CHECK(ds[0].label == 3);
  CHECK(ds[1].label == 0);
  CHECK(ds[2].label == 9);
  const std::vector<float> x = ds[1].data.to_vector<float>();
  CHECK(ds[1].data.shape() == Shape{3, 32, 32});
  // Pixel byte k of record 1 is (7 + k) % 256: red (0, 0), red (0, 1), green (0, 0), blue (31, 31).
  CHECK(x[0] == 7 / 255.f);
  CHECK(x[1] == 8 / 255.f);
  CHECK(x[1024] == (7 + 1024) % 256 / 255.f);
  CHECK(x[3071] == (7 + 3071) % 256 / 255.f);
  CIFAR10 test(dir.path.string(), false);
  CHECK(test.size() == 1);
  CHECK(test[0].label == 9);

  Bytes cut = f1;
  cut.resize(3073 + 100);
  write_bytes(dir / "cut.bin", cut);
  CHECK(error_of([&] { CIFAR10::from_files({dir / "cut.bin"}); }) ==
        "CIFAR10: '" + (dir / "cut.bin") + "' is truncated at byte 3173: record 1 has 100 of its 3073 bytes");
  Bytes bad = f1;
  bad[3073] = 10;
  write_bytes(dir / "bad.bin", bad);
  CHECK(error_of([&] { CIFAR10::from_files({dir / "bad.bin"}); }) ==
        "CIFAR10: '" + (dir / "bad.bin") + "': label 10 of record 1 is out of range [0, 10)");
  write_bytes(dir / "empty.bin", {});
  CHECK(error_of([&] { CIFAR10::from_files({dir / "empty.bin"}); }).find("is empty") != std::string::npos);
  CHECK(error_of([&] { CIFAR10(dir.path.string(), true); }).find("cannot open '" + (dir / "data_batch_1.bin") + "'") !=
        std::string::npos);
}

TEST_CASE("data readers: ImageFolder decodes, resizes and labels by sorted folder") {
  TempDir dir("tg_data_readers");
  fs::create_directories(dir.path / "b_dog");
  fs::create_directories(dir.path / "a_cat" / "nested");
  // 4x4 RGB PNG (lossless): pixel (y, x) = (10·y + x, 100 + x, 200 − y).
  std::vector<uint8_t> png(4 * 4 * 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      png[(y * 4 + x) * 3 + 0] = (uint8_t)(10 * y + x);
      png[(y * 4 + x) * 3 + 1] = (uint8_t)(100 + x);
      png[(y * 4 + x) * 3 + 2] = (uint8_t)(200 - y);
    }
  REQUIRE(stbi_write_png(dir.path.string().append("/a_cat/x.png").c_str(), 4, 4, 3, png.data(), 4 * 3));
  // 8x8 JPEG, left half (40, 80, 120), right half (200, 160, 20); and a grey PNG (1 channel).
  const uint8_t left[3] = {40, 80, 120}, right[3] = {200, 160, 60};
  std::vector<uint8_t> jpg(8 * 8 * 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) jpg[(y * 8 + x) * 3 + c] = x < 4 ? left[c] : right[c];
  REQUIRE(stbi_write_jpg((dir / "b_dog/photo.JPEG").c_str(), 8, 8, 3, jpg.data(), 100));
  std::vector<uint8_t> grey(4 * 4, 128);
  REQUIRE(stbi_write_png((dir / "a_cat/nested/g.png").c_str(), 4, 4, 1, grey.data(), 4));
  write_bytes(dir / "b_dog/notes.txt", {1, 2, 3});

  ImageFolder ds(dir.path.string(), 4, 4);
  CHECK(ds.classes() == std::vector<std::string>{"a_cat", "b_dog"});
  REQUIRE(ds.size() == 3);
  CHECK(ds.samples()[0].first == dir / "a_cat/nested/g.png");
  CHECK(ds.samples()[1].first == dir / "a_cat/x.png");
  CHECK(ds.samples()[2] == std::pair<std::string, int64_t>{dir / "b_dog/photo.JPEG", 1});

  Example g = ds[0];
  CHECK(g.label == 0);
  CHECK(g.data.to_vector<float>() == std::vector<float>(48, 128 / 255.f));  // grey expands to RGB
  Example p = ds[1];
  CHECK(p.data.shape() == Shape{3, 4, 4});
  const std::vector<float> v = p.data.to_vector<float>();
  CHECK(v[0 * 16 + 2 * 4 + 3] == 23 / 255.f);  // red at (2, 3)
  CHECK(v[1 * 16 + 1 * 4 + 2] == 102 / 255.f);  // green at (1, 2)
  CHECK(v[2 * 16 + 3 * 4 + 0] == 197 / 255.f);  // blue at (3, 0)

  // The 8x8 JPEG resized to 4x4: left columns keep the left colour, right the right one.
  Example d = ds[2];
  CHECK(d.label == 1);
  const std::vector<float> w = d.data.to_vector<float>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y) {
      CHECK(w[c * 16 + y * 4 + 0] * 255 == doctest::Approx(left[c]).epsilon(0.05));
      CHECK(w[c * 16 + y * 4 + 3] * 255 == doctest::Approx(right[c]).epsilon(0.05));
    }

  ImageFolder big(dir.path.string(), 6, 10);
  CHECK(big[1].data.shape() == Shape{3, 6, 10});
}

TEST_CASE("data readers: ImageFolder errors name the folder or the file") {
  TempDir dir("tg_data_readers");
  CHECK(error_of([&] { ImageFolder(dir / "none", 4, 4); }) == "ImageFolder: '" + (dir / "none") + "' is not a directory");
  CHECK(error_of([&] { ImageFolder(dir.path.string(), 4, 4); }).find("has no class folders") != std::string::npos);
  fs::create_directories(dir.path / "cls");
  write_bytes(dir / "cls/readme.md", {1});
  CHECK(error_of([&] { ImageFolder(dir.path.string(), 4, 4); }) ==
        "ImageFolder: class folder '" + (dir / "cls") + "' has no .jpg, .jpeg or .png files");

  std::vector<uint8_t> px(2 * 2 * 3, 9);
  for (int i = 0; i < 6; ++i)
    REQUIRE(stbi_write_png((dir / fmt::format("cls/ok{}.png", i)).c_str(), 2, 2, 3, px.data(), 6));
  write_bytes(dir / "cls/broken.jpg", {0xff, 0xd8, 0xff, 0x00, 1, 2, 3});
  ImageFolder ds(dir.path.string(), 2, 2);
  REQUIRE(ds.samples()[0].first == dir / "cls/broken.jpg");
  CHECK(error_of([&] { ds[0]; }).find("ImageFolder: cannot decode image '" + (dir / "cls/broken.jpg") + "': ") !=
        std::string::npos);
  CHECK(ds[1].data.to_vector<float>() == std::vector<float>(12, 9 / 255.f));

  // Through a loader's worker the same error reaches the consumer.
  DataLoader loader(std::shared_ptr<const Dataset>(&ds, [](const Dataset*) {}), {.batch_size = 3, .num_workers = 2});
  CHECK(error_of([&] {
          for (const Batch& b : loader) CHECK(b.data.size(0) == 3);
        }).find("cannot decode image") != std::string::npos);
}
