#pragma once
// Tensor: data only (no gradients; see autograd/ for those). A tensor is a view
// (shape, strides in elements, offset) into a shared, reference-counted Storage.
// Views share storage and never copy; in-place methods (suffix _) write through.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"

namespace tg {

using Shape = std::vector<int64_t>;
class Tensor;
// Named tensors in a fixed order: state dicts, checkpoint contents.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

std::string shape_str(const Shape& s);  // "[2, 3]"
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

// A block of device memory. Freed (or returned to the device's cache) when the last
// tensor referencing it goes away.
class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() == false
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;    // negative d counts from the end
  int64_t stride(int64_t d) const;
  int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  Device device() const;
  size_t element_size() const { return dtype_size(dtype_); }
  size_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool shares_storage(const Tensor& o) const { return storage_ == o.storage_; }

  // Pointer to the first element. data<T>() checks that T matches dtype().
  void* raw_data() const;
  template <class T> T* data() const;
  // Value of a one-element tensor (CPU or copied from the device), as double.
  double item() const;
  template <class T> std::vector<T> to_vector() const;  // row-major copy, converts dtype

  // Views (no copy). Errors name the op and the shapes.
  Tensor view(const Shape& shape) const;     // requires compatible strides; one dim may be -1
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a contiguous copy
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  // 2-D transpose
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;  // python-like bounds
  Tensor select(int64_t dim, int64_t index) const;  // removes dim
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size; new leading dims allowed
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // Copies and conversions.
  Tensor clone() const;       // contiguous copy
  Tensor contiguous() const;  // *this when already contiguous
  Tensor to(DType dtype) const;    // *this when equal
  Tensor to(Device device) const;  // *this when equal; error without the backend
  Tensor cpu() const { return to(Device::cpu()); }

  // In-place: write through to the storage (const like the handle, as in torch).
  const Tensor& copy_(const Tensor& src) const;  // broadcasts src to this shape, converts dtype
  const Tensor& fill_(double value) const;
  const Tensor& zero_() const { return fill_(0.0); }
  const Tensor& add_(const Tensor& other, double alpha = 1.0) const;  // this += alpha * other (broadcast)
  const Tensor& mul_(double value) const;

  std::string str() const;  // short human-readable dump

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::f32;
};

// Normalizes a possibly negative dim for a tensor of rank `rank`; `op` names the caller.
int64_t wrap_dim(int64_t dim, int64_t rank, const char* op);

// ---- factories ----------------------------------------------------------------
Tensor empty(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = kFloat32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = kFloat32, Device device = Device::cpu());
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor scalar(double value, DType dtype = kFloat32, Device device = Device::cpu());  // 0-d
Tensor arange(double start, double end, double step = 1.0, DType dtype = kFloat32);
Tensor arange(double end, DType dtype = kFloat32);
// Copies `values` (row-major) into a new CPU tensor of `shape` (and dtype of T unless given).
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor from_vector(const std::vector<double>& values, const Shape& shape);
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape);
// 1-D tensor from a braced list: tg::tensor({1, 2, 3}, kFloat64).
Tensor tensor(std::initializer_list<double> values, DType dtype = kFloat32);

// Debug aid used by gradcheck: while > 0, every new allocation is filled with NaN
// (float) or a sentinel (int64), so a kernel that leaves an output element unwritten
// produces a detectable value instead of stale memory.
class PoisonAllocations {
 public:
  PoisonAllocations();
  ~PoisonAllocations();
  static bool active();
};

// ---- template definitions --------------------------------------------------------
template <class T> T* Tensor::data() const {
  TG_CHECK(defined(), "data", "tensor is undefined");
  TG_CHECK(dtype_of<T>() == dtype_, "data", "requested {} pointer for a {} tensor", dtype_name(dtype_of<T>()),
           dtype_name(dtype_));
  return static_cast<T*>(raw_data());
}

}  // namespace tg
