#include "core/random.h"

#include <cmath>

#include "core/backend.h"

namespace tg {

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) { default_generator().set_state(seed, 0); }

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011).
void philox(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

double uniform_from_bits(uint32_t bits) { return ((double)bits + 1.0) * (1.0 / 4294967296.0); }

static Generator& gen_or_default(Generator* g) { return g ? *g : default_generator(); }

Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Generator* gen) {
  TG_CHECK(is_floating(dtype), "uniform", "expected a float dtype, got {}", dtype_name(dtype));
  Tensor t = empty(shape, dtype);
  cpu_backend().rand_uniform(t, gen_or_default(gen).seed(), gen_or_default(gen).advance(t.numel()), lo, hi);
  return t;
}

Tensor normal(const Shape& shape, double mean, double stddev, DType dtype, Generator* gen) {
  TG_CHECK(is_floating(dtype), "normal", "expected a float dtype, got {}", dtype_name(dtype));
  Tensor t = empty(shape, dtype);
  cpu_backend().rand_normal(t, gen_or_default(gen).seed(), gen_or_default(gen).advance(t.numel()), mean, stddev);
  return t;
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) { return uniform(shape, 0.0, 1.0, dtype, gen); }
Tensor randn(const Shape& shape, DType dtype, Generator* gen) { return normal(shape, 0.0, 1.0, dtype, gen); }

Tensor bernoulli(const Tensor& p, Generator* gen) {
  TG_CHECK(p.defined() && is_floating(p.dtype()), "bernoulli", "expected float probabilities");
  Tensor out = empty(p.shape(), p.dtype(), p.device());
  Generator& g = gen_or_default(gen);
  backend_for(p.device(), "bernoulli").bernoulli(p, out, g.seed(), g.advance(out.numel()));
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
