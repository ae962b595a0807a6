// Decoded images per second through the study's input pipeline: ImageFolder (stb_image
// decoding in the loader's worker threads) → RandomResizedCrop → RandomHorizontalFlip
// → Normalize → batches. By default it writes ImageNet-like JPEGs (500×375, quality 90,
// smooth colour gradients plus noise) into a temporary folder; --data measures an
// existing ImageNet-layout folder (its train/ split) instead.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <random>

#include "data/dataloader.h"
#include "data/image_folder.h"
#include "data/transforms.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

using namespace tg;
namespace fs = std::filesystem;

static void write_jpegs(const fs::path& dir, int count, int width, int height) {
  std::mt19937 gen(1);
  std::uniform_int_distribution<int> noise(-12, 12);
  for (int c = 0; c < 2; ++c) fs::create_directories(dir / fmt::format("class{}", c));
  std::vector<uint8_t> px((size_t)width * height * 3);
  for (int i = 0; i < count; ++i) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const int v = (x * (ch + 1) + y * (3 - ch) + 37 * i) % 256 + noise(gen);
          px[((size_t)y * width + x) * 3 + ch] = (uint8_t)std::clamp(v, 0, 255);
        }
    const std::string path = (dir / fmt::format("class{}", i % 2) / fmt::format("{:04d}.jpg", i)).string();
    if (!stbi_write_jpg(path.c_str(), width, height, 3, px.data(), 90)) throw Error("bench_image_loader: cannot write " + path);
  }
}

int main(int argc, char** argv) {
  CLI::App app{"Images/s of ImageFolder + the ImageNet training transforms through the DataLoader"};
  std::string data;
  int images = 128, epochs = 2;
  int64_t size = 224, batch = 32;
  std::vector<int> workers{1, 2};
  app.add_option("--data", data, "an ImageNet-layout folder (default: write temporary 500x375 JPEGs)");
  app.add_option("--images", images, "JPEGs to write when --data is not given")->capture_default_str();
  app.add_option("--size", size, "crop size")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs per measurement")->capture_default_str();
  app.add_option("--workers", workers, "loader worker counts to measure, comma-separated")->delimiter(',')->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  fs::path tmp;
  if (data.empty()) {
    tmp = fs::temp_directory_path() / fmt::format("tg_bench_images_{}", (long)getpid());
    write_jpegs(tmp / "train", images, 500, 375);
    data = tmp.string();
  }
  auto folder = std::make_shared<ImageFolder>((fs::path(data) / "train").string());
  auto tf = std::make_shared<Compose>(std::vector<Shared<const Transform>>{
      RandomResizedCrop(size, size), RandomHorizontalFlip(),
      Normalize(std::vector<double>{0.485, 0.456, 0.406}, std::vector<double>{0.229, 0.224, 0.225})});
  for (int w : workers) {
    DataLoader loader(std::make_shared<TransformDataset>(folder, tf), {.batch_size = batch, .shuffle = true, .num_workers = w});
    int64_t n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int e = 0; e < epochs; ++e)
      for (const Batch& b : loader) n += b.data.size(0);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("images {} ({} files), crop {}, workers {}: {:.0f} images/s\n", data, folder->size(), size, w,
               (double)n / secs);
  }
  if (!tmp.empty()) fs::remove_all(tmp);
  return 0;
}
