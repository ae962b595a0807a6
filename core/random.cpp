#include "core/random.h"

#include <cmath>

#include "core/backend.h"
#include "core/philox.h"

namespace tg {

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) { default_generator().set_state(seed, 0); }

void philox(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  const PhiloxBlock b = philox4x32(seed, counter);
  for (int k = 0; k < 4; ++k) out[k] = b.w[k];
}

double uniform_from_bits(uint32_t bits) { return philox_uniform(bits); }

static Generator& gen_or_default(Generator* g) { return g ? *g : default_generator(); }

Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Device device, Generator* gen) {
  TG_CHECK(is_floating(dtype), "uniform", "expected a float dtype, got {}", dtype_name(dtype));
  Tensor t = empty(shape, dtype, device);
  Generator& g = gen_or_default(gen);
  rand_uniform_stub(device, "uniform", t, g.seed(), g.advance(t.numel()), lo, hi);
  return t;
}

Tensor normal(const Shape& shape, double mean, double stddev, DType dtype, Device device, Generator* gen) {
  TG_CHECK(is_floating(dtype), "normal", "expected a float dtype, got {}", dtype_name(dtype));
  Tensor t = empty(shape, dtype, device);
  Generator& g = gen_or_default(gen);
  rand_normal_stub(device, "normal", t, g.seed(), g.advance(t.numel()), mean, stddev);
  return t;
}

Tensor rand(const Shape& shape, DType dtype, Device device, Generator* gen) {
  return uniform(shape, 0.0, 1.0, dtype, device, gen);
}
Tensor randn(const Shape& shape, DType dtype, Device device, Generator* gen) {
  return normal(shape, 0.0, 1.0, dtype, device, gen);
}
Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Generator* gen) {
  return uniform(shape, lo, hi, dtype, Device::cpu(), gen);
}
Tensor normal(const Shape& shape, double mean, double stddev, DType dtype, Generator* gen) {
  return normal(shape, mean, stddev, dtype, Device::cpu(), gen);
}
Tensor rand(const Shape& shape, DType dtype, Generator* gen) { return uniform(shape, 0.0, 1.0, dtype, gen); }
Tensor randn(const Shape& shape, DType dtype, Generator* gen) { return normal(shape, 0.0, 1.0, dtype, gen); }

Tensor bernoulli(const Tensor& p, Generator* gen) {
  TG_CHECK(p.defined() && is_floating(p.dtype()), "bernoulli", "expected float probabilities");
  Tensor out = empty(p.shape(), p.dtype(), p.device());
  Generator& g = gen_or_default(gen);
  bernoulli_stub(p.device(), "bernoulli", p, out, g.seed(), g.advance(out.numel()));
  return out;
}

Tensor randperm(int64_t n, Generator* gen) {
  TG_CHECK(n >= 0, "randperm", "n must be non-negative, got {}", n);
  Generator& g = gen_or_default(gen);
  const uint64_t base = g.advance(n);
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  // Fisher-Yates with one Philox word per step.
  for (int64_t i = n - 1; i > 0; --i) {
    uint32_t w[4];
    philox(g.seed(), base + (uint64_t)i, w);
    const uint64_t r = ((uint64_t)w[0] << 32) | w[1];
    std::swap(v[i], v[r % (uint64_t)(i + 1)]);
  }
  return from_vector(v, {n});
}

}  // namespace tg
