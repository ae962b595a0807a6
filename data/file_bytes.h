#pragma once
// Reads a whole file into memory; the error names the op and the file.
#include <cstdint>
#include <string>
#include <vector>

namespace tg {

std::vector<uint8_t> read_file_bytes(const std::string& path, const char* op);

}  // namespace tg
