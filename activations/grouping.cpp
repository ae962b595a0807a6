#include "activations/grouping.h"

namespace tg {

std::string VectorGrouping::str() const {
  switch (kind) {
    case Kind::LastDim: return "last_dim";
    case Kind::Blocks: return fmt::format("blocks({})", block);
    case Kind::Channels: return "channels";
  }
  return "?";
}

VectorPlan::VectorPlan(const Shape& shape, const VectorGrouping& g, const char* op) : kind_(g.kind) {
  numel_ = shape_numel(shape);
  switch (g.kind) {
    case VectorGrouping::Kind::LastDim:
      TG_CHECK(!shape.empty() && shape.back() > 0, op, "grouping last_dim needs a non-empty last dimension, got shape {}",
               shape_str(shape));
      d_ = shape.back();
      count_ = numel_ / d_;
      break;
    case VectorGrouping::Kind::Blocks:
      TG_CHECK(g.block >= 1, op, "grouping blocks(k) needs k >= 1, got {}", g.block);
      TG_CHECK(shape.size() == 4, op, "grouping {} needs an N,C,H,W input, got shape {}", g.str(), shape_str(shape));
      k_ = g.block;
      h_ = shape[2];
      w_ = shape[3];
      nbh_ = (h_ + k_ - 1) / k_;
      nbw_ = (w_ + k_ - 1) / k_;
      count_ = shape[0] * shape[1] * nbh_ * nbw_;
      break;
    case VectorGrouping::Kind::Channels:
      TG_CHECK(shape.size() >= 2 && shape[1] > 0, op, "grouping channels needs an N,C,... input with C > 0, got shape {}",
               shape_str(shape));
      d_ = shape[1];
      hw_ = shape_numel(Shape(shape.begin() + 2, shape.end()));
      count_ = shape[0] * hw_;
      break;
  }
}

VectorPatch VectorPlan::patch(int64_t v) const {
  switch (kind_) {
    case VectorGrouping::Kind::LastDim: return {v * d_, 1, d_, d_};
    case VectorGrouping::Kind::Blocks: {
      const BlockPosition b = block_position(v);
      const int64_t r0 = b.row * k_, c0 = b.col * k_;
      return {b.plane_base + r0 * w_ + c0, std::min(k_, h_ - r0), std::min(k_, w_ - c0), w_};
    }
    case VectorGrouping::Kind::Channels: {
      const int64_t n = v / hw_, p = v % hw_;
      return {n * d_ * hw_ + p, d_, 1, hw_};
    }
  }
  return {0, 0, 0, 0};
}

VectorStrip VectorPlan::strip(int64_t v) const {
  const VectorPatch p = patch(v);
  switch (kind_) {
    case VectorGrouping::Kind::LastDim: return {p.base, 1, d_, d_, count_ - v};
    case VectorGrouping::Kind::Blocks: {
      const int64_t j = v % nbw_, full = w_ / k_;  // block column; full-width blocks per block row
      return {p.base, p.rows, p.cols, w_, j < full ? full - j : 1};
    }
    case VectorGrouping::Kind::Channels: return {p.base, d_, 1, hw_, hw_ - v % hw_};
  }
  return {0, 0, 0, 0, 0};
}

VectorPlan::BlockPosition VectorPlan::block_position(int64_t v) const {
  const int64_t per_plane = nbh_ * nbw_, b = v % per_plane;
  return {b / nbw_, b % nbw_, (v / per_plane) * h_ * w_};
}

StripCursor::StripCursor(const VectorPlan& plan, int64_t v) : plan_(plan), s_(plan.strip(v)) {
  if (plan.kind_ == VectorGrouping::Kind::Blocks) {
    const VectorPlan::BlockPosition b = plan.block_position(v);
    i_ = b.row, j_ = b.col, plane_base_ = b.plane_base;
  }
}

VectorCursor::VectorCursor(const VectorPlan& plan, int64_t v) : plan_(plan), p_(plan.patch(v)) {
  if (plan.kind_ == VectorGrouping::Kind::Blocks) {
    const VectorPlan::BlockPosition b = plan.block_position(v);
    i_ = b.row, j_ = b.col, plane_base_ = b.plane_base;
  } else if (plan.kind_ == VectorGrouping::Kind::Channels) {
    j_ = v % plan.hw_;
  }
}

}  // namespace tg
