#include "core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "core/backend.h"
#include "core/ops.h"

namespace tg {

using namespace ops;

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t d = (int64_t)s.size() - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= std::max<int64_t>(s[d], 1);
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t rank, const char* op) {
  const int64_t r = std::max<int64_t>(rank, 1);
  TG_CHECK(dim >= -r && dim < r, op, "dim {} out of range for a tensor of rank {}", dim, rank);
  return dim < 0 ? dim + r : dim;
}

// ---- storage ---------------------------------------------------------------------
static std::atomic<int> g_poison{0};
PoisonAllocations::PoisonAllocations() { ++g_poison; }
PoisonAllocations::~PoisonAllocations() { --g_poison; }
bool PoisonAllocations::active() { return g_poison.load() > 0; }

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = allocate_stub(device, "allocate", device, std::max<size_t>(nbytes, 1));
}

Storage::~Storage() {
  if (data_) deallocate_stub(device_, "free", device_, data_, std::max<size_t>(nbytes_, 1));
}

// ---- tensor ----------------------------------------------------------------------
Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      dtype_(dtype) {}

Device Tensor::device() const { return storage_ ? storage_->device() : Device::cpu(); }

int64_t Tensor::size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides_[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != expect) return false;
    expect *= shape_[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  TG_CHECK(defined(), "data", "tensor is undefined");
  return static_cast<char*>(storage_->data()) + offset_ * (int64_t)element_size();
}

double Tensor::item() const {
  TG_CHECK(defined(), "item", "tensor is undefined");
  TG_CHECK(numel() == 1, "item", "expected a one-element tensor, got shape {}", shape_str(shape_));
  Tensor c = cpu();
  switch (dtype_) {
    case DType::f32: return *c.data<float>();
    case DType::f64: return *c.data<double>();
    case DType::i64: return (double)*c.data<int64_t>();
  }
  return 0;
}

template <class T> std::vector<T> Tensor::to_vector() const {
  Tensor c = cpu().to(dtype_of<T>()).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

// ---- views -----------------------------------------------------------------------
static Shape infer_shape(Shape shape, int64_t numel, const char* op) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TG_CHECK(infer < 0, op, "only one dimension can be -1 in {}", shape_str(shape));
      infer = (int64_t)i;
    } else {
      TG_CHECK(shape[i] >= 0, op, "invalid size {} in {}", shape[i], shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    TG_CHECK(known != 0 && numel % known == 0, op, "shape {} is invalid for input of size {}", shape_str(shape),
             numel);
    shape[infer] = numel / known;
  }
  TG_CHECK(shape_numel(shape) == numel, op, "shape {} is invalid for input of size {}", shape_str(shape), numel);
  return shape;
}

// Strides for viewing (shape, strides) as new_shape without a copy, when every run of
// old dims that the new shape merges or splits is contiguous within itself (the
// chunk walk that torch's view uses). Returns false when a copy is needed.
static bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape, Shape& out) {
  out.assign(new_shape.size(), 0);
  if (shape_numel(shape) == 0 || shape.empty()) {
    out = contiguous_strides(new_shape);
    return true;
  }
  int64_t vd = (int64_t)new_shape.size() - 1;
  int64_t chunk_base = strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t td = (int64_t)shape.size() - 1; td >= 0; --td) {
    tensor_numel *= shape[td];
    if (td == 0 || (shape[td - 1] != 1 && strides[td - 1] != tensor_numel * chunk_base)) {
      while (vd >= 0 && (view_numel < tensor_numel || new_shape[vd] == 1)) {
        out[vd] = view_numel * chunk_base;
        view_numel *= new_shape[vd];
        --vd;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base = strides[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return vd == -1;
}

Tensor Tensor::view(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "view");
  Shape st;
  TG_CHECK(view_strides(shape_, strides_, s, st), "view",
           "cannot view a tensor of shape {} with strides {} as {} without a copy (use reshape)", shape_str(shape_),
           shape_str(strides_), shape_str(s));
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "reshape");
  Shape st;
  if (view_strides(shape_, strides_, s, st)) return Tensor(storage_, s, st, offset_, dtype_);
  return contiguous().view(s);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  TG_CHECK((int64_t)dims.size() == dim(), "permute", "got {} dims for a tensor of shape {}", dims.size(),
           shape_str(shape_));
  Shape s(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    TG_CHECK(!seen[d], "permute", "repeated dim {} in {}", d, shape_str(dims));
    seen[d] = true;
    s[i] = shape_[d];
    st[i] = strides_[d];
  }
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim(d0, dim(), "transpose");
  d1 = wrap_dim(d1, dim(), "transpose");
  Shape s = shape_, st = strides_;
  std::swap(s[d0], s[d1]);
  std::swap(st[d0], st[d1]);
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::t() const {
  TG_CHECK(dim() == 2, "t", "expected a 2-D tensor, got shape {}", shape_str(shape_));
  return transpose(0, 1);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  TG_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], "narrow",
           "range [{}, {}) out of bounds for dim {} of shape {}", start, start + length, d, shape_str(shape_));
  Shape s = shape_;
  s[d] = length;
  return Tensor(storage_, s, strides_, offset_ + start * strides_[d], dtype_);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  TG_CHECK(step > 0, "slice", "step must be positive, got {}", step);
  const int64_t n = shape_[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape_, st = strides_;
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  return Tensor(storage_, s, st, offset_ + start * strides_[d], dtype_);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  TG_CHECK(index >= -shape_[d] && index < shape_[d], "select", "index {} out of range for dim {} of shape {}", index,
           d, shape_str(shape_));
  if (index < 0) index += shape_[d];
  Shape s = shape_, st = strides_;
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return Tensor(storage_, s, st, offset_ + index * strides_[d], dtype_);
}

Tensor Tensor::squeeze() const {
  Shape s, st;
  for (int64_t d = 0; d < dim(); ++d)
    if (shape_[d] != 1) {
      s.push_back(shape_[d]);
      st.push_back(strides_[d]);
    }
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (shape_[d] != 1) return *this;
  Shape s = shape_, st = strides_;
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = shape_, st = strides_;
  const int64_t stride = d < dim() ? strides_[d] * shape_[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::expand(const Shape& shape) const {
  TG_CHECK((int64_t)shape.size() >= dim(), "expand", "cannot expand shape {} to fewer dims {}", shape_str(shape_),
           shape_str(shape));
  const int64_t lead = (int64_t)shape.size() - dim();
  Shape s(shape.size()), st(shape.size());
  for (int64_t i = 0; i < (int64_t)shape.size(); ++i) {
    if (i < lead) {
      TG_CHECK(shape[i] >= 0, "expand", "invalid size -1 for new leading dim in {}", shape_str(shape));
      s[i] = shape[i];
      st[i] = 0;
      continue;
    }
    const int64_t src = shape_[i - lead];
    const int64_t want = shape[i] == -1 ? src : shape[i];
    TG_CHECK(src == want || src == 1, "expand", "cannot expand shape {} to {}", shape_str(shape_), shape_str(shape));
    s[i] = want;
    st[i] = src == want ? strides_[i - lead] : 0;
  }
  return Tensor(storage_, s, st, offset_, dtype_);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  TG_CHECK(start_dim <= end_dim, "flatten", "start_dim {} after end_dim {}", start_dim, end_dim);
  Shape s(shape_.begin(), shape_.begin() + start_dim);
  int64_t m = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) m *= shape_[d];
  s.push_back(m);
  s.insert(s.end(), shape_.begin() + end_dim + 1, shape_.end());
  return reshape(s);
}

// ---- copies ------------------------------------------------------------------------
Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor out = empty(shape_, dtype_, device);
  out.copy_(*this);
  return out;
}

const Tensor& Tensor::copy_(const Tensor& src) const {
  TG_CHECK(defined() && src.defined(), "copy_", "undefined tensor");
  Tensor s = src.expand(shape_);
  if (src.device() == device()) {
    copy_stub(device(), "copy_", s, *this);
  } else if (src.device().is_cpu()) {  // host -> device: the device backend copies
    copy_stub(device(), "copy_", s.contiguous(), *this);
  } else {  // device -> host
    copy_stub(src.device(), "copy_", s, *this);
  }
  return *this;
}

const Tensor& Tensor::fill_(double value) const {
  fill_stub(device(), "fill_", *this, value);
  return *this;
}

const Tensor& Tensor::add_(const Tensor& other, double alpha) const {
  TG_CHECK(other.dtype() == dtype_, "add_", "dtype mismatch: {} and {}", dtype_name(dtype_), dtype_name(other.dtype()));
  Tensor o = alpha == 1.0 ? other : mul(other, alpha);
  binary_stub(device(), "add_", BinaryOp::Add, *this, o.expand(shape_), *this);
  return *this;
}

const Tensor& Tensor::mul_(double value) const {
  unary_stub(device(), "mul_", UnaryOp::MulScalar, *this, *this, value, 0);
  return *this;
}

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(shape=" << shape_str(shape_) << ", dtype=" << dtype_name(dtype_) << ", device=" << device().str()
     << ", [";
  auto v = to_vector<double>();
  for (size_t i = 0; i < v.size() && i < 16; ++i) os << (i ? ", " : "") << v[i];
  if (v.size() > 16) os << ", ...";
  os << "])";
  return os.str();
}

// ---- factories -------------------------------------------------------------------------
Tensor empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) TG_CHECK(d >= 0, "empty", "negative size in shape {}", shape_str(shape));
  auto st = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  Tensor t(st, shape, contiguous_strides(shape), 0, dtype);
  if (PoisonAllocations::active())
    t.fill_(dtype == DType::i64 ? -7777777.0 : std::numeric_limits<double>::quiet_NaN());
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor arange(double start, double end, double step, DType dtype) {
  TG_CHECK(step != 0, "arange", "step must be non-zero");
  const int64_t n = std::max<int64_t>(0, (int64_t)std::ceil((end - start) / step));
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + i * step;
  return from_vector(v, {n}).to(dtype);
}
Tensor arange(double end, DType dtype) { return arange(0, end, 1, dtype); }

template <class T> static Tensor from_vector_impl(const std::vector<T>& values, const Shape& shape) {
  TG_CHECK((int64_t)values.size() == shape_numel(shape), "from_vector", "{} values do not fill shape {}",
           values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
Tensor from_vector(const std::vector<float>& v, const Shape& s) { return from_vector_impl(v, s); }
Tensor from_vector(const std::vector<double>& v, const Shape& s) { return from_vector_impl(v, s); }
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s) { return from_vector_impl(v, s); }

Tensor tensor(std::initializer_list<double> values, DType dtype) {
  return from_vector(std::vector<double>(values), {(int64_t)values.size()}).to(dtype);
}

}  // namespace tg
