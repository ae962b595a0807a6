// Exports MNIST or Fashion-MNIST (IDX files, e.g. the Debian package
// dataset-fashion-mnist) into an ImageNet-layout folder of PNG images:
//   <out>/train/<class>/<index>.png   the first --train-per-class images of each class
//   <out>/val/<class>/<index>.png     the same from the test set (--val-per-class)
// Class folders are named "<label>-<name>" so that their sorted order is the label order.
// The folder is written under a temporary name and renamed when complete.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fmt/core.h>

#include "data/idx.h"
#include "data/image_folder.h"

using namespace tg;
namespace fs = std::filesystem;

static const char* const kFashionNames[10] = {"tshirt", "trouser", "pullover", "dress", "coat",
                                              "sandal", "shirt",   "sneaker",  "bag",   "ankle-boot"};

static void export_split(const MNIST& ds, const fs::path& dir, int64_t per_class, bool fashion) {
  std::vector<int64_t> written(10, 0);
  SampleRng rng(0, 0);
  for (int64_t i = 0; i < ds.size(); ++i) {
    Example e = ds.get(i, rng);
    if (per_class > 0 && written[e.label] >= per_class) continue;
    const fs::path cls = dir / fmt::format("{}-{}", e.label, fashion ? kFashionNames[e.label] : "digit");
    if (written[e.label]++ == 0) fs::create_directories(cls);
    write_png((cls / fmt::format("{:05d}.png", i)).string(), e.data);
  }
  for (int64_t c = 0; c < 10; ++c)
    TG_CHECK(per_class == 0 || written[c] == per_class, "mnist_to_folder", "{}: class {} has only {} images, not {}",
             dir.string(), c, written[c], per_class);
}

int main(int argc, char** argv) {
  CLI::App app{"Export (Fashion-)MNIST IDX files into an ImageNet-layout PNG folder"};
  std::string idx_dir = "/usr/share/datasets/fashion-mnist", out;
  int64_t train_per_class = 0, val_per_class = 0;
  bool digits = false;
  app.add_option("--idx", idx_dir, "folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")->capture_default_str();
  app.add_option("--out", out, "folder to create (must not exist)")->required();
  app.add_option("--train-per-class", train_per_class, "training images per class (0: all)")->capture_default_str();
  app.add_option("--val-per-class", val_per_class, "validation images per class, from the test set (0: all)")
      ->capture_default_str();
  app.add_flag("--digits", digits, "MNIST digits: class folders <label>-digit instead of Fashion-MNIST's names");
  CLI11_PARSE(app, argc, argv);
  try {
    TG_CHECK(!fs::exists(out), "mnist_to_folder", "'{}' exists already", out);
    const fs::path tmp = fs::path(out + ".partial");
    fs::remove_all(tmp);
    export_split(MNIST(idx_dir, true), tmp / "train", train_per_class, !digits);
    export_split(MNIST(idx_dir, false), tmp / "val", val_per_class, !digits);
    fs::rename(tmp, out);
    fmt::print("mnist_to_folder: wrote {}\n", out);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
