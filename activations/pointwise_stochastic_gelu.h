#pragma once
// The math of StochasticGELU in training (the sampled form; eval mode is gelu). Not an
// f/df op: the forward also takes the element's row-major index, which picks its
// Philox block, so the CPU and a CUDA device draw the same mask for the same
// generator state, whatever the thread or block layout.
#include <cstdint>

#include "activations/pointwise_basic.h"  // normal_cdf_pdf_
#include "core/philox.h"

namespace tg::act {

// Forward: y = x·m, m = [u ≤ Φ(x)], u ~ U(0, 1] from Philox block (seed, offset + i),
// so P(m = 1) = Φ(x). Backward (straight-through on the expectation E[y] = x·Φ(x),
// ignoring Φ′): dx = g·Φ(x), the GELU paper's surrogate; it needs the input only.
// The sample's Φ is taken in double for both dtypes: u has 32 random bits, more than a
// float Φ resolves. The backward's is GELU's (normal_cdf_pdf_).
struct StochasticGelu {
  uint64_t seed, offset;
  template <class T>
  TG_HD T sample(T x, uint64_t i) const {
    const PhiloxBlock b = philox4x32(seed, offset + i);
    return philox_uniform(b.w[0]) <= special::Phi((double)x) ? x : T(0);
  }
  template <class T>
  TG_HD T df(T g, T x) const {
    return g * normal_cdf_pdf_(x).cdf;
  }
};

}  // namespace tg::act
