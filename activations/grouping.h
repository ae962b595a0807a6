#pragma once
// Vector groupings: how a tensor is cut into vectors v ∈ R^d for a vector activation.
//
//   last_dim()   the last dimension: vectors of d = size(-1) (any rank ≥ 1).
//   blocks(k)    k×k spatial blocks within each channel of an N,C,H,W map, flattened
//                (d = k², the VecGELU paper's k = 4, d = 16). When H or W is not a
//                multiple of k, the blocks on the bottom/right edge are the smaller
//                rectangles that remain, each a vector with its own d = rows·cols
//                (e.g. H = 5, k = 4: block rows of heights 4 and 1).
//   channels()   the channel vector at each position of an N,C,* map (d = C).
//
// Every element belongs to exactly one vector. Vectors are numbered row-major over
// (N, C, block row, block col) for blocks, (N, position) for channels, and the
// leading dims for last_dim; per-vector quantities (scales, masks) follow that order.
#include <string>

#include "core/tensor.h"

namespace tg {

struct VectorGrouping {
  enum class Kind { LastDim, Blocks, Channels };
  Kind kind = Kind::Blocks;
  int64_t block = 4;  // k, for Blocks

  static VectorGrouping last_dim() { return {Kind::LastDim, 0}; }
  static VectorGrouping blocks(int64_t k = 4) { return {Kind::Blocks, k}; }
  static VectorGrouping channels() { return {Kind::Channels, 0}; }
  std::string str() const;  // "last_dim", "blocks(4)", "channels"
};

// Implemented by the modules of vector activations (beside Module): the grouping
// they gate, so that tools such as the training monitor can measure ‖v‖ per vector.
class VectorActivation {
 public:
  virtual ~VectorActivation() = default;
  virtual VectorGrouping vector_grouping() const = 0;
};

// One vector of a contiguous tensor: a rows×cols patch starting at element `base`,
// its rows `row_stride` elements apart (last_dim: 1×D; blocks: ≤k×≤k with stride W;
// channels: C×1 with stride H·W).
struct VectorPatch {
  int64_t base, rows, cols, row_stride;
  int64_t dim() const { return rows * cols; }
};

// Vectors v, …, v + count − 1 lying side by side: vector v + i is the rows×width patch
// at base + i·width, its rows row_stride elements apart (last_dim: 1×D, D apart;
// blocks: the full-width k×k blocks of one block row, k apart; channels: the C×1
// columns of one sample, 1 apart). Kernels sweep a strip row by row at unit stride.
struct VectorStrip {
  int64_t base, rows, width, row_stride, count;
};

class VectorPlan;

// Walks the strips of a plan from vector v on without the divisions strip(v) needs:
// strip() is the rest of the current strip, advance(k) steps past its first k vectors
// (k ≤ strip().count), into the next strip when k is the whole count.
class StripCursor {
 public:
  StripCursor(const VectorPlan& plan, int64_t v);
  const VectorStrip& strip() const { return s_; }
  inline void advance(int64_t k);

 private:
  const VectorPlan& plan_;
  VectorStrip s_;
  int64_t i_ = 0, j_ = 0, plane_base_ = 0;  // Blocks: block row, block col, plane's first element
};

// Walks vectors v, v+1, … of a plan without the divisions patch(v) needs.
class VectorCursor {
 public:
  VectorCursor(const VectorPlan& plan, int64_t v);
  const VectorPatch& patch() const { return p_; }
  inline void next();

 private:
  const VectorPlan& plan_;
  VectorPatch p_;
  int64_t i_ = 0, j_ = 0, plane_base_ = 0;  // Blocks: block row, block col; Channels: j_ = position
};

// The vectors of a contiguous tensor of `shape` under a grouping. The constructor
// checks the shape (throwing tg::Error naming `op`, the grouping and the shape).
class VectorPlan {
 public:
  VectorPlan(const Shape& shape, const VectorGrouping& grouping, const char* op);
  int64_t count() const { return count_; }  // number of vectors
  int64_t numel() const { return numel_; }
  VectorPatch patch(int64_t v) const;
  // The strip that starts at vector v (a ragged edge block is a strip of one).
  VectorStrip strip(int64_t v) const;
  // Blocks grouping: vector v's block row, block column and its plane's first element.
  struct BlockPosition {
    int64_t row, col, plane_base;
  };
  BlockPosition block_position(int64_t v) const;
  // Whether the grouping is blocks(k) and every vector a full k×k block (H and W
  // multiples of k).
  bool full_blocks(int64_t k) const { return kind_ == VectorGrouping::Kind::Blocks && k_ == k && h_ % k == 0 && w_ % k == 0; }
  // Channels grouping: the vectors of one sample at consecutive positions are adjacent
  // columns of a C×positions() matrix.
  int64_t positions() const { return hw_; }

 private:
  friend class VectorCursor;
  friend class StripCursor;
  VectorGrouping::Kind kind_;
  int64_t count_ = 0, numel_ = 0;
  int64_t d_ = 0;                                      // LastDim: D; Channels: C
  int64_t k_ = 0, h_ = 0, w_ = 0, nbh_ = 0, nbw_ = 0;  // Blocks
  int64_t hw_ = 0;                                     // Channels: positions per sample
};

inline void StripCursor::advance(int64_t k) {
  const VectorPlan& q = plan_;
  if (k < s_.count) {
    s_.base += k * s_.width;
    s_.count -= k;
    j_ += k;
    return;
  }
  switch (q.kind_) {
    case VectorGrouping::Kind::LastDim: s_.count = 0; return;  // the last strip
    case VectorGrouping::Kind::Channels:  // the next sample
      s_.base += s_.count + (q.d_ - 1) * q.hw_;
      s_.count = q.hw_;
      return;
    case VectorGrouping::Kind::Blocks:
      j_ += k;
      if (j_ < q.nbw_) {  // the ragged block at the right edge
        s_ = {s_.base + k * s_.width, s_.rows, q.w_ - j_ * q.k_, q.w_, 1};
        return;
      }
      j_ = 0;
      if (++i_ == q.nbh_) {
        i_ = 0;
        plane_base_ += q.h_ * q.w_;
      }
      const int64_t full = q.w_ / q.k_;
      s_ = {plane_base_ + i_ * q.k_ * q.w_, std::min(q.k_, q.h_ - i_ * q.k_), full > 0 ? q.k_ : q.w_, q.w_,
            full > 0 ? full : 1};
      return;
  }
}

inline void VectorCursor::next() {
  const VectorPlan& q = plan_;
  switch (q.kind_) {
    case VectorGrouping::Kind::LastDim: p_.base += q.d_; return;
    case VectorGrouping::Kind::Blocks:
      if (++j_ < q.nbw_) {
        p_.base += q.k_;
        p_.cols = std::min(q.k_, q.w_ - j_ * q.k_);
        return;
      }
      j_ = 0;
      if (++i_ == q.nbh_) {
        i_ = 0;
        plane_base_ += q.h_ * q.w_;
      }
      p_.base = plane_base_ + i_ * q.k_ * q.w_;
      p_.rows = std::min(q.k_, q.h_ - i_ * q.k_);
      p_.cols = std::min(q.k_, q.w_);
      return;
    case VectorGrouping::Kind::Channels:
      p_.base += ++j_ < q.hw_ ? 1 : 1 + (q.d_ - 1) * q.hw_;
      if (j_ == q.hw_) j_ = 0;
      return;
  }
}

}  // namespace tg
