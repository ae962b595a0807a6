#pragma once
// Counter-based random numbers (Philox-4x32-10). Element i of a draw is a pure
// function of (seed, offset + i), so results do not depend on the thread count or
// the device, and a Generator can be saved and restored as two integers.
#include <cstdint>

#include "core/tensor.h"

namespace tg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }
  // Reserves n counters and returns the first.
  uint64_t advance(uint64_t n) { uint64_t o = offset_; offset_ += n; return o; }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (like torch's), reseeded by manual_seed.
Generator& default_generator();
void manual_seed(uint64_t seed);

// Philox4x32-10 block for (seed, counter): four independent 32-bit words.
void philox(uint64_t seed, uint64_t counter, uint32_t out[4]);
// Uniform in (0, 1] from a 32-bit word; standard normal from two words (Box-Muller).
double uniform_from_bits(uint32_t bits);

// Draws on `device` (the CPU when omitted; argument order as zeros(shape, dtype,
// device)). The numbers do not depend on the device: the same generator state gives
// the same values on the CPU and on a GPU (normal draws up to the last bit of libm's
// and CUDA's log and cos, see core/cuda/random.cu).
Tensor rand(const Shape& shape, DType dtype, Device device, Generator* gen = nullptr);   // U(0,1]
Tensor randn(const Shape& shape, DType dtype, Device device, Generator* gen = nullptr);  // N(0,1)
Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Device device, Generator* gen = nullptr);
Tensor normal(const Shape& shape, double mean, double stddev, DType dtype, Device device, Generator* gen = nullptr);
Tensor rand(const Shape& shape, DType dtype = kFloat32, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype = kFloat32, Generator* gen = nullptr);
Tensor uniform(const Shape& shape, double lo, double hi, DType dtype = kFloat32, Generator* gen = nullptr);
Tensor normal(const Shape& shape, double mean, double stddev, DType dtype = kFloat32, Generator* gen = nullptr);
// 1 with probability p (elementwise, p a tensor of probabilities), else 0, on p's device.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64), reproducible from the generator.
Tensor randperm(int64_t n, Generator* gen = nullptr);

}  // namespace tg
