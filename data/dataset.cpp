#include "data/dataset.h"

#include <cstring>

namespace tg {

Example Dataset::operator[](int64_t index) const {
  SampleRng rng(epoch_keys(0, 0).sample, (uint64_t)index);
  return get(index, rng);
}

void check_index(int64_t index, int64_t size, const char* dataset) {
  TG_CHECK(index >= 0 && index < size, dataset, "index {} out of range for a dataset of {} examples", index, size);
}

TensorDataset::TensorDataset(Tensor data, Tensor labels) {
  TG_CHECK(data.defined() && labels.defined(), "TensorDataset", "data and labels must be defined");
  TG_CHECK(data.dtype() == kFloat32 && data.dim() >= 1, "TensorDataset",
           "expected float32 data [N, ...], got {} {}", dtype_name(data.dtype()), shape_str(data.shape()));
  TG_CHECK(labels.dtype() == kInt64 && labels.dim() == 1 && labels.size(0) == data.size(0), "TensorDataset",
           "expected int64 labels [{}] for data {}, got {} {}", data.size(0), shape_str(data.shape()),
           dtype_name(labels.dtype()), shape_str(labels.shape()));
  data_ = data.cpu().contiguous();
  labels_ = labels.to_vector<int64_t>();
}

Example TensorDataset::get(int64_t index, SampleRng&) const {
  check_index(index, size(), "TensorDataset");
  Tensor row = data_.select(0, index);
  Tensor out = empty(row.shape(), kFloat32);
  std::memcpy(out.raw_data(), row.raw_data(), row.nbytes());
  return {out, labels_[index]};
}

SubsetDataset::SubsetDataset(Shared<const Dataset> base, int64_t n) : base_(base.ptr()), n_(n) {
  TG_CHECK(base_ != nullptr, "SubsetDataset", "no base dataset");
  TG_CHECK(n >= 0 && n <= base_->size(), "SubsetDataset", "{} examples requested from a dataset of {}", n, base_->size());
}

Example SubsetDataset::get(int64_t index, SampleRng& rng) const {
  check_index(index, n_, "SubsetDataset");
  return base_->get(index, rng);
}

}  // namespace tg
