// Interrupted checkpoint writes: a save_safetensors that fails midway (the file-size
// limit reached, as on a full disk; the rename refused) leaves the previous file
// intact and loadable, and no temporary file behind.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <sys/resource.h>

#include "core/random.h"
#include "data/safetensors.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::ops;
using namespace tg::testing;
namespace fs = std::filesystem;

namespace {

// Lowers this process's file-size limit (RLIMIT_FSIZE) for its lifetime. Writing past
// it fails with EFBIG once SIGXFSZ, which would kill the process, is ignored.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old_) == 0);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower = old_;
    lower.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("checkpoint writes: a write that fails midway leaves the previous checkpoint intact") {
  TempDir dir("tg_ckpt_writes");
  const std::string path = dir / "model.safetensors";
  Generator g(3);
  const Tensor old_w = randn({4, 5}, kFloat32, &g);
  save_safetensors(path, {{"w", old_w}}, {{"epoch", "1"}});
  const Bytes old_bytes = read_bytes(path);

  // The new checkpoint (1 MB of data) cannot fit under a 64 KiB limit: the header
  // goes out, the data stops partway.
  const Tensor big = randn({256, 1024}, kFloat32, &g);
  std::string err;
  {
    FileSizeLimit limit(64 * 1024);
    err = error_of([&] { save_safetensors(path, {{"w", big}}, {{"epoch", "2"}}); });
  }
  CHECK(err.rfind(fmt::format("save_safetensors: cannot write '{}.tmp.", path), 0) == 0);
  CHECK(err.ends_with(": File too large"));
  CHECK(names_in(dir.path) == std::vector<std::string>{"model.safetensors"});  // no temporary left
  CHECK(read_bytes(path) == old_bytes);
  Metadata meta;
  NamedTensors back = load_safetensors(path, &meta);
  REQUIRE(back.size() == 1);
  CHECK(back[0].second.to_vector<float>() == old_w.to_vector<float>());
  CHECK(meta.at("epoch") == "1");

  // Without the limit the same save goes through and replaces the file.
  save_safetensors(path, {{"w", big}}, {{"epoch", "2"}});
  CHECK(load_safetensors(path, &meta)[0].second.to_vector<float>() == big.to_vector<float>());
  CHECK(meta.at("epoch") == "2");
}

TEST_CASE("checkpoint writes: a refused rename leaves the target and no temporary file") {
  TempDir dir("tg_ckpt_writes");
  const std::string path = dir / "ckpt";
  fs::create_directories(fs::path(path) / "occupied");  // a non-empty directory cannot be replaced by a file
  const std::string err = error_of([&] { save_safetensors(path, {{"x", full({2}, 1.0)}}); });
  CHECK(err.rfind(fmt::format("save_safetensors: cannot rename '{}.tmp.", path), 0) == 0);
  CHECK(err.find(fmt::format("' to '{}': ", path)) != std::string::npos);
  CHECK(names_in(dir.path) == std::vector<std::string>{"ckpt"});
  CHECK(fs::is_directory(fs::path(path) / "occupied"));
}

TEST_CASE("checkpoint writes: a missing directory is named in the error") {
  TempDir dir("tg_ckpt_writes");
  const std::string path = dir / "no/such/dir/ckpt.safetensors";
  CHECK(error_of([&] { save_safetensors(path, {{"x", full({2}, 1.0)}}); })
            .rfind(fmt::format("save_safetensors: cannot create '{}.tmp.", path), 0) == 0);
}
