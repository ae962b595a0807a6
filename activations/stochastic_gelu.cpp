#include "activations/stochastic_gelu.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>
#include <type_traits>

#include "activations/basic.h"
#include "activations/kernels.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "activations/unary.h"
#include "core/cpu/simd.h"

namespace tg {

using act::Grads;
using act::Needs;

// Margin around the float32 packet Φ within which a draw is decided by the double Φ of
// op.sample: the packet Φ is within 3 ulp of Φ (tests/test_simd.cpp), under 4e-7 in
// absolute terms, so outside the margin both decide alike.
constexpr double kDecisionMargin = 1e-6;

// y_i = op.sample(x_i, i) for i in [i0, i0 + 8) of float32 x (i < n), eight draws at a
// time: the packet Philox gives each element's bits, the packet Φ decides every draw
// farther than kDecisionMargin from it, and op.sample decides the rest (about 2 in 10⁶),
// so the masks are op.sample's, bit for bit, as a CUDA device draws them.
static void sample_packet(const act::StochasticGelu& op, const float* x, float* y, int64_t i0, int64_t n) {
  using V = cpu::Vec<float>;
  const int k = (int)std::min<int64_t>(V::kLanes, n - i0);
  alignas(32) uint32_t bits[V::kLanes];
  _mm256_store_si256(reinterpret_cast<__m256i*>(bits), philox4x32_w0_x8(op.seed, op.offset + (uint64_t)i0));
  const V xv = V::load(reinterpret_cast<const char*>(x + i0), sizeof(float), k);
  alignas(32) float phi[V::kLanes];
  normal_cdf_pdf_(xv).cdf.store(reinterpret_cast<char*>(phi), sizeof(float), V::kLanes);
  for (int l = 0; l < k; ++l) {
    const double u = philox_uniform(bits[l]);
    const float xi = x[i0 + l];
    const bool keep = std::abs(u - (double)phi[l]) > kDecisionMargin ? u <= (double)phi[l]
                                                                      : op.sample(xi, (uint64_t)(i0 + l)) != 0.0f;
    y[i0 + l] = keep ? xi : 0.0f;
  }
}

// y_i = op.sample(x_i, i) over contiguous x, where i is the element's row-major index.
static Tensor sample(const act::StochasticGelu& op, const Tensor& xc) {
  Tensor y = empty_like(xc);
  const int64_t n = xc.numel();
  cpu::dispatch_float(xc.dtype(), "stochastic_gelu", [&](auto zero) {
    using T = decltype(zero);
    const T* px = xc.data<T>();
    T* py = y.data<T>();
    if constexpr (std::is_same_v<T, float>) {
      const int64_t packets = (n + cpu::Vec<float>::kLanes - 1) / cpu::Vec<float>::kLanes;
      cpu::parallel_for(packets, n > cpu::kParallelGrain,
                        [&](int64_t p) { sample_packet(op, px, py, p * cpu::Vec<float>::kLanes, n); });
    } else {
      cpu::parallel_for(n, n > cpu::kParallelGrain, [&](int64_t i) { py[i] = op.sample(px[i], (uint64_t)i); });
    }
  });
  return y;
}

constinit DispatchStub<Tensor (*)(const act::StochasticGelu&, const Tensor&)> act::stochastic_gelu_stub;
TG_REGISTER_KERNEL(act::stochastic_gelu_stub, DeviceType::CPU, sample);

Variable stochastic_gelu(const Variable& x, bool training, Generator* gen) {
  if (!training) return gelu(x);
  act::check_float(x.data(), "stochastic_gelu");
  const Tensor xc = x.data().contiguous();
  Generator& g = gen ? *gen : default_generator();
  const act::StochasticGelu op{g.seed(), g.advance((uint64_t)xc.numel())};
  return record_activation("stochastic_gelu", act::stochastic_gelu_stub(xc.device(), "stochastic_gelu", op, xc), {x}, {xc},
                           [op](const Tensor& gy, const Needs&, const Grads& saved) {
                             return Grads{act::unary_backward(op, gy, saved[0], "stochastic_gelu_backward")};
                           });
}

}  // namespace tg
