#pragma once
// Dataset: indexed examples, as torch.utils.data.Dataset. get() must be safe to call
// from several threads at once (the DataLoader's workers do), so datasets hold their
// data read-only after construction and build a fresh tensor per call.
#include <cstdint>
#include <memory>

#include "core/shared.h"
#include "core/tensor.h"
#include "data/sample_rng.h"

namespace tg {

// One example: the input (float32, e.g. [C, H, W] pixels in [0, 1]) and its class.
struct Example {
  Tensor data;
  int64_t label = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // The example at index (0 <= index < size()). Random datasets (transforms) draw only
  // from rng, which the DataLoader keys by (seed, epoch, index); readers ignore it.
  virtual Example get(int64_t index, SampleRng& rng) const = 0;
  // The example at index with the draws of seed 0, epoch 0 (ds[i] in Python).
  Example operator[](int64_t index) const;
};

// Checks 0 <= index < size, naming the dataset in the error.
void check_index(int64_t index, int64_t size, const char* dataset);

// TensorDataset: example i is (data[i], labels[i]), as torch.utils.data.TensorDataset
// with one input tensor. data: float32 [N, ...]; labels: int64 [N].
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor data, Tensor labels);
  int64_t size() const override { return data_.size(0); }
  Example get(int64_t index, SampleRng& rng) const override;

 private:
  Tensor data_;
  std::vector<int64_t> labels_;
};

// The first n examples of another dataset (torch.utils.data.Subset of range(n)).
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(Shared<const Dataset> base, int64_t n);
  int64_t size() const override { return n_; }
  Example get(int64_t index, SampleRng& rng) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  int64_t n_;
};

}  // namespace tg
