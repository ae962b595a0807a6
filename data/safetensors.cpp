#include "data/safetensors.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "data/file_bytes.h"

namespace tg {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

const char* st_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
  }
  return "?";
}

// A temporary file beside `path`, renamed over it once complete, removed on failure.
// The order makes a crash at any point leave the old file or the new one whole: the
// data reaches the disk (fsync of the file) before the rename publishes it, and the
// rename itself is made durable by an fsync of the directory. A process killed before
// the rename leaves the old file and a stray "<path>.tmp.<pid>.<n>".
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path) : path_(path) {
    static std::atomic<uint64_t> counter{0};
    tmp_ = fmt::format("{}.tmp.{}.{}", path, (long)getpid(), counter++);
    f_ = std::fopen(tmp_.c_str(), "wb");
    TG_CHECK(f_ != nullptr, "save_safetensors", "cannot create '{}': {}", tmp_, std::strerror(errno));
  }
  ~AtomicFile() {
    if (f_) std::fclose(f_);
    if (!committed_) std::remove(tmp_.c_str());
  }
  void write(const void* data, size_t n) {
    TG_CHECK(n == 0 || std::fwrite(data, 1, n, f_) == n, "save_safetensors", "cannot write '{}': {}", tmp_,
             std::strerror(errno));
  }
  void commit() {
    const bool ok = std::fflush(f_) == 0 && fsync(fileno(f_)) == 0;
    const int err = errno;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    TG_CHECK(ok && closed, "save_safetensors", "cannot write '{}': {}", tmp_, std::strerror(err));
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    TG_CHECK(!ec, "save_safetensors", "cannot rename '{}' to '{}': {}", tmp_, path_, ec.message());
    committed_ = true;
    sync_directory();
  }

 private:
  void sync_directory() const {
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = fd >= 0 && fsync(fd) == 0;
    const int err = errno;
    if (fd >= 0) close(fd);
    TG_CHECK(ok, "save_safetensors", "wrote '{}' but cannot sync its directory '{}': {}", path_, dir.empty() ? "." : dir,
             std::strerror(err));
  }

  std::string path_, tmp_;
  FILE* f_ = nullptr;
  bool committed_ = false;
};

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TG_CHECK(!name.empty() && name != "__metadata__", "save_safetensors", "'{}': invalid tensor name '{}'", path, name);
    TG_CHECK(!header.contains(name), "save_safetensors", "'{}': duplicate tensor name '{}'", path, name);
    TG_CHECK(t.defined(), "save_safetensors", "'{}': tensor '{}' is undefined", path, name);
    data.push_back(t.cpu().contiguous());
    header[name] = {{"dtype", st_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  AtomicFile f(path);
  f.write(&n, 8);
  f.write(json.data(), json.size());
  for (const Tensor& t : data) f.write(t.raw_data(), t.nbytes());
  f.commit();
}

NamedTensors load_safetensors(const std::string& path, Metadata* metadata) {
  const std::vector<uint8_t> bytes = read_file_bytes(path, "load_safetensors");
  TG_CHECK(bytes.size() >= 8, "load_safetensors", "'{}' is truncated: {} bytes, fewer than the 8-byte header length",
           path, bytes.size());
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  TG_CHECK(n <= bytes.size() - 8, "load_safetensors",
           "'{}' is truncated: the header length is {} bytes but only {} bytes follow", path, n, bytes.size() - 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + (ptrdiff_t)n);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("load_safetensors: '{}' has a bad header: {}", path, e.what()));
  }
  TG_CHECK(header.is_object(), "load_safetensors", "'{}' has a bad header: expected a JSON object", path);
  const uint8_t* base = bytes.data() + 8 + n;
  const uint64_t data_size = bytes.size() - 8 - n;

  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      TG_CHECK(v.is_object(), "load_safetensors", "'{}' has a bad header: __metadata__ is not an object", path);
      for (const auto& [k, s] : v.items()) {
        TG_CHECK(s.is_string(), "load_safetensors", "'{}' has a bad header: metadata '{}' is not a string", path, k);
        if (metadata) (*metadata)[k] = s.get<std::string>();
      }
      continue;
    }
    auto bad = [&, &name = name](const char* what) {  // (clang before 16 cannot capture a structured binding)
      return Error(fmt::format("load_safetensors: '{}' has a bad header: tensor '{}' {}", path, name, what));
    };
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw bad("needs dtype, shape and data_offsets");
    const auto& dt = v["dtype"];
    const auto& shape = v["shape"];
    const auto& offs = v["data_offsets"];
    if (!dt.is_string()) throw bad("has a dtype that is not a string");
    if (!shape.is_array() || !std::all_of(shape.begin(), shape.end(), [](const auto& d) { return d.is_number_unsigned(); }))
      throw bad("has a shape that is not a list of non-negative integers");
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      throw bad("has data_offsets that are not two non-negative integers");
    Entry e{name, kFloat32, {}, offs[0].get<uint64_t>(), offs[1].get<uint64_t>()};
    const std::string d = dt.get<std::string>();
    if (d == "F32") e.dtype = kFloat32;
    else if (d == "F64") e.dtype = kFloat64;
    else if (d == "I64") e.dtype = kInt64;
    else throw Error(fmt::format("load_safetensors: '{}': tensor '{}' has unsupported dtype {} (supported: F32, F64, I64)",
                                 path, name, d));
    // Every product of dimensions must fit in int64 (shape arithmetic elsewhere is
    // signed), zero-sized tensors included: [2^40, 2^40, 0] is refused too.
    constexpr uint64_t kMaxElements = uint64_t(1) << 56;
    uint64_t numel = 1, extent = 1;  // extent: the product of the non-zero dimensions
    for (const auto& dim : shape) {
      const uint64_t s = dim.get<uint64_t>();
      if (s > kMaxElements || (s != 0 && extent > kMaxElements / s)) throw bad("has a shape of more than 2^56 elements");
      extent *= s != 0 ? s : 1;
      numel *= s;
      e.shape.push_back((int64_t)s);
    }
    TG_CHECK(e.begin <= e.end && e.end <= data_size, "load_safetensors",
             "'{}': tensor '{}' has data_offsets [{}, {}] out of range: the data section has {} bytes (file truncated?)",
             path, name, e.begin, e.end, data_size);
    TG_CHECK(e.end - e.begin == numel * dtype_size(e.dtype), "load_safetensors",
             "'{}': tensor '{}' has data_offsets [{}, {}] ({} bytes), but shape {} of {} needs {} bytes", path, name,
             e.begin, e.end, e.end - e.begin, shape_str(e.shape), d, numel * dtype_size(e.dtype));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    TG_CHECK(e.begin == expected, "load_safetensors",
             "'{}': tensor '{}' starts at byte {} of the data section, expected {} (tensors overlap or leave a hole)",
             path, e.name, e.begin, expected);
    expected = e.end;
  }
  TG_CHECK(expected == data_size, "load_safetensors", "'{}' has {} bytes after the last tensor's data", path,
           data_size - expected);

  NamedTensors out;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data(), base + e.begin, e.end - e.begin);
    out.emplace_back(e.name, t);
  }
  return out;
}

}  // namespace tg
