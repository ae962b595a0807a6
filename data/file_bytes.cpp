#include "data/file_bytes.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/stat.h>

#include "core/error.h"

namespace tg {

// A regular file is read at the size fstat gives, plus one byte that finds the end (or
// a file that grew); anything else in chunks. Not a fixed 1 MiB first chunk: zeroing
// it cost more than reading a small file (over half of a fuzzer's time, tests/fuzz).
std::vector<uint8_t> read_file_bytes(const std::string& path, const char* op) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  TG_CHECK(f != nullptr, op, "cannot open '{}': {}", path, std::strerror(errno));
  struct stat st {};
  size_t chunk = 1 << 16;
  if (fstat(fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode)) chunk = (size_t)st.st_size + 1;
  std::vector<uint8_t> out;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    const size_t n = std::fread(out.data() + old, 1, chunk, f.get());
    out.resize(old + n);
    if (n < chunk) break;
    chunk = std::max<size_t>(chunk, 1 << 20);
  }
  TG_CHECK(!std::ferror(f.get()), op, "cannot read '{}': {}", path, std::strerror(errno));
  return out;
}

}  // namespace tg
