// Writes the seed corpora under tests/fuzz/corpus/<harness>/: small valid files of each
// format, made with the library's own writers, plus a few near misses. Regenerate with
//   cmake --build build --target fuzz_make_seeds && build/fuzz_make_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <zlib.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "autograd/functions.h"
#include "core/random.h"
#include "data/safetensors.h"
#include "layers/loss.h"
#include "optim/adam.h"
#include "tests/fuzz/checkpoint_model.h"

using namespace tg;
namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

static void put(const fs::path& path, const Bytes& b) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write((const char*)b.data(), (std::streamsize)b.size());
}

static Bytes get(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

static Bytes idx(const std::vector<uint32_t>& dims, uint8_t start) {
  Bytes b{0, 0, 0x08, (uint8_t)dims.size()};
  size_t n = 1;
  for (uint32_t d : dims) {
    n *= d;
    for (int s = 24; s >= 0; s -= 8) b.push_back((uint8_t)(d >> s));
  }
  for (size_t i = 0; i < n; ++i) b.push_back((uint8_t)(start + 37 * i));
  return b;
}

static Bytes gzip(const Bytes& raw, const fs::path& scratch) {
  gzFile f = gzopen(scratch.c_str(), "wb");
  gzwrite(f, raw.data(), (unsigned)raw.size());
  gzclose(f);
  return get(scratch);
}

static Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

static void png_to_vec(void* ctx, void* data, int size) {
  auto* out = static_cast<Bytes*>(ctx);
  out->insert(out->end(), (uint8_t*)data, (uint8_t*)data + size);
}

// An image file of w×h with `comp` channels, prefixed by the harness's 2 size bytes.
static Bytes image(bool jpeg, int w, int h, int comp, uint8_t out_h, uint8_t out_w) {
  Bytes pixels((size_t)w * h * comp);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = (uint8_t)(i * 29);
  Bytes out{out_h, out_w};
  if (jpeg) stbi_write_jpg_to_func(png_to_vec, &out, w, h, comp, pixels.data(), 90);
  else stbi_write_png_to_func(png_to_vec, &out, w, h, comp, pixels.data(), w * comp);
  return out;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1], scratch = fs::temp_directory_path() / "tg_make_seeds.tmp";
  Generator gen(7);

  save_safetensors(scratch.string(),
                   {{"w", randn({2, 3}, kFloat32, &gen)}, {"b", randn({3}, kFloat64, &gen)},
                    {"idx", tensor({1, 2, 3}, kFloat32).to(kInt64)}, {"empty", empty({0, 4})}},
                   {{"epoch", "3"}, {"note", "seed"}});
  put(root / "safetensors" / "mixed.safetensors", get(scratch));
  save_safetensors(scratch.string(), {{"scalar", full({}, 2.5, kFloat64)}});
  put(root / "safetensors" / "scalar.safetensors", get(scratch));

  // A checkpoint as the demo writes it, after one Adam step so the optimizer has state.
  auto model = fuzz::checkpoint_model();
  Adam opt(model->parameters());
  Variable loss = cross_entropy((*model)(Variable(randn({2, 1, 4, 4}, kFloat32, &gen))), tensor({0, 2}).to(kInt64));
  loss.backward();
  opt.step();
  NamedTensors all;
  for (auto& [n, t] : model->state_dict()) all.emplace_back("model." + n, t);
  for (auto& [n, t] : opt.state_dict()) all.emplace_back("optim." + n, t);
  save_safetensors(scratch.string(), all, {{"epoch", "1"}, {"activation", "relu"}});
  put(root / "checkpoint" / "adam_step1.safetensors", get(scratch));

  const Bytes images = idx({3, 2, 2}, 250), labels = idx({3}, 1);
  put(root / "idx" / "images.idx", images);
  put(root / "idx" / "labels.idx", labels);
  put(root / "idx" / "images.idx.gz", gzip(images, scratch));
  Bytes mnist_labels{0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
  put(root / "mnist" / "pair", cat({(uint8_t)images.size(), (uint8_t)(images.size() >> 8)}, cat(images, mnist_labels)));
  const Bytes gz_images = gzip(images, scratch);
  put(root / "mnist" / "pair_gz",
      cat({(uint8_t)gz_images.size(), (uint8_t)(gz_images.size() >> 8)}, cat(gz_images, gzip(mnist_labels, scratch))));

  Bytes record(3073);
  for (size_t i = 0; i < record.size(); ++i) record[i] = (uint8_t)(i * 13);
  record[0] = 6;
  put(root / "cifar" / "one_record.bin", record);
  put(root / "cifar" / "two_records.bin", cat(record, record));

  put(root / "image_folder" / "rgb.png", image(false, 5, 4, 3, 4, 5));
  put(root / "image_folder" / "gray_alpha.png", image(false, 3, 7, 2, 9, 2));
  put(root / "image_folder" / "rgba.png", image(false, 6, 6, 4, 3, 3));
  put(root / "image_folder" / "rgb.jpg", image(true, 8, 8, 3, 8, 8));
  put(root / "image_folder" / "gray.jpg", image(true, 9, 5, 1, 16, 4));
  fs::remove(scratch);
  return 0;
}
