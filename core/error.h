#pragma once
// tg::Error: the one exception type of tapegrad. Every message names the op that
// raised it and the offending shapes, dtypes or devices, so a user can act on it.
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace tg

// TG_CHECK(cond, "op", "format {}", args...): throws tg::Error("op: message") when cond fails.
#define TG_CHECK(cond, op, ...)                                                  \
  do {                                                                          \
    if (!(cond)) throw ::tg::Error(std::string(op) + ": " + fmt::format(__VA_ARGS__)); \
  } while (0)
