#include "data/file_bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace tg {

std::vector<uint8_t> read_file_bytes(const std::string& path, const char* op) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  TG_CHECK(f != nullptr, op, "cannot open '{}': {}", path, std::strerror(errno));
  std::vector<uint8_t> out;
  constexpr size_t kChunk = 1 << 20;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + kChunk);
    const size_t n = std::fread(out.data() + old, 1, kChunk, f.get());
    out.resize(old + n);
    if (n < kChunk) break;
  }
  TG_CHECK(!std::ferror(f.get()), op, "cannot read '{}': {}", path, std::strerror(errno));
  return out;
}

}  // namespace tg
