#pragma once
// Checkpoints in the safetensors format (what PyTorch users read with
// safetensors.torch.load_file): an 8-byte little-endian header length N, N bytes of
// JSON {"name": {"dtype": "F32"|"F64"|"I64", "shape": [...], "data_offsets": [begin,
// end]}, ..., "__metadata__": {"key": "value"}} padded with spaces to a multiple of
// 8, then the tensors' raw little-endian bytes, back to back with no holes, offsets
// relative to the end of the header.
#include <map>
#include <string>

#include "layers/module.h"

namespace tg {

using Metadata = std::map<std::string, std::string>;

// Writes float32, float64 and int64 tensors (any device, any strides) in the given
// order. Atomic: writes a temporary file in the same directory, syncs it to disk,
// renames it over `path` and syncs the directory, so a reader — even after a crash or
// a failed write (disk full) — sees the old file or the new one, never a partial one.
// Errors: duplicate or empty names, "__metadata__" as a name, undefined tensors, I/O.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Reads every tensor (CPU, contiguous) in file order; fills *metadata when given.
// Errors name the file and, where one is at fault, the tensor: truncated file, bad
// header (JSON, missing or mistyped fields), unsupported dtype, data_offsets out of
// range or not matching the shape, overlapping tensors or holes between them.
NamedTensors load_safetensors(const std::string& path, Metadata* metadata = nullptr);

}  // namespace tg
