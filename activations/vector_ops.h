#pragma once
// Group operations on the vectors of a grouping (grouping.h), from Lipschitz networks
// (Anil, Lucas & Grosse 2019), Maxout and escnn's invariant maps. Reductions return one
// value per vector in vector_shape (norm_activation.h). Ties and kinks:
//   maxout       the gradient goes to the first maximum in the vector's element order
//                (row-major in a block, channel order for channels);
//   group_sort   a stable sort: equal values keep their element order, and the gradient
//                follows that permutation (the Jacobian is a permutation matrix, so
//                gradient norms are preserved);
//   norm_pool    ‖v‖; at v = 0 the gradient is 0 (the minimum-norm subgradient);
//   norm_max_pool  the first pixel of the window (row-major) with the largest norm wins.
// float32 or float64 on the CPU or a CUDA device: only the choice of elements (argmax,
// sort permutation, window winner) is device code (cuda/vector_ops.cu); values move by
// the backend's gather and the backward is its scatter_add. A CUDA device sorts vectors
// of up to 64 elements.
#include "activations/grouping.h"
#include "layers/module.h"

namespace tg {

// max_e v_e per vector. Saves one int64 index per vector.
Variable maxout(const Variable& x, const VectorGrouping& grouping);

// Each vector's elements sorted (descending: largest first, so d = 2 gives [max, min];
// ascending otherwise) and written back in the vector's element order. Saves one int64
// source index per element.
Variable group_sort(const Variable& x, const VectorGrouping& grouping, bool descending = true);

// Anil et al.'s GroupSort over features: groups of k consecutive entries along dim 1 of
// an N,C,… (or N,F) input, each sorted descending. k = 2 is MaxMin, k = C FullSort.
Variable group_sort_features(const Variable& x, int64_t k);

// ‖v‖ per vector. Saves the input and the norms.
Variable norm_pool(const Variable& x, const VectorGrouping& grouping);

// N,C,H,W input, the channel vector at each pixel: in each kernel×kernel window (step
// stride, no padding) the pixel whose vector has the largest norm is copied out:
// [N, C, (H − kernel)/stride + 1, (W − kernel)/stride + 1]. Saves one int64 pixel index
// per output pixel.
Variable norm_max_pool(const Variable& x, int64_t kernel, int64_t stride = 0);

class Maxout : public Module {
 public:
  explicit Maxout(VectorGrouping grouping) : grouping(grouping) {}
  Variable forward(const Variable& x) override { return maxout(x, grouping); }
  std::string name() const override { return "Maxout"; }
  const VectorGrouping grouping;
};

// group_sort on a grouping (every vector sorted: FullSort of each vector).
class GroupSort : public Module, public VectorActivation {
 public:
  VectorGrouping vector_grouping() const override { return grouping; }
  explicit GroupSort(VectorGrouping grouping, bool descending = true) : grouping(grouping), descending(descending) {}
  Variable forward(const Variable& x) override { return group_sort(x, grouping, descending); }
  std::string name() const override { return "GroupSort"; }
  const VectorGrouping grouping;
  const bool descending;
};

// MaxMin: GroupSort over pairs of consecutive features (dim 1).
class MaxMin : public Module {
 public:
  Variable forward(const Variable& x) override { return group_sort_features(x, 2); }
  std::string name() const override { return "MaxMin"; }
};

class NormPool : public Module {
 public:
  explicit NormPool(VectorGrouping grouping) : grouping(grouping) {}
  Variable forward(const Variable& x) override { return norm_pool(x, grouping); }
  std::string name() const override { return "NormPool"; }
  const VectorGrouping grouping;
};

class NormMaxPool : public Module {
 public:
  explicit NormMaxPool(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride) {}
  Variable forward(const Variable& x) override { return norm_max_pool(x, kernel, stride); }
  std::string name() const override { return "NormMaxPool"; }
  const int64_t kernel, stride;
};

}  // namespace tg
