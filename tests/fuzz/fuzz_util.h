#pragma once
// Shared by the fuzz harnesses. Each harness defines LLVMFuzzerTestOneInput: it
// writes the input where the reader expects a file and calls the reader. A malformed
// input must end in a tg::Error (caught here); anything else — another exception, a
// crash, a sanitizer report, a hang — is a finding. The same harnesses run under
// libFuzzer (scripts/fuzz, clang) and under replay.cpp (ctest, any compiler).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "core/error.h"

namespace tg::fuzz {

// A directory of this process's own under $TMPDIR (or /tmp), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("tg_fuzz_" + std::to_string((long)getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

inline void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();  // the harness's own scratch file: not the reader's fault
  }
}

// Runs f; a tg::Error is the expected answer to a malformed input.
template <class F>
void expect_tg_error_or_success(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

}  // namespace tg::fuzz
