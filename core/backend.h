#pragma once
// The narrow boundary between core's front functions and the devices. A backend
// implements this small set of primitives for its device; front functions check
// arguments, allocate, and call backend_for(device). Callers never see a backend.
// Operands arrive already broadcast (expanded views) to the output's shape.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace tg {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Abs, Sign, Square, Reciprocal, Clamp, PowScalar, AddScalar, MulScalar, RSubScalar };
enum class BinaryOp { Add, Sub, Mul, Div, Pow, Max, Min, Eq, Ne, Lt, Le, Gt, Ge };
enum class ReduceOp { Sum, Max, Min };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  // dst = src elementwise (same shape; dtypes may differ; src on this backend's device).
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  virtual void fill(const Tensor& dst, double value) = 0;
  // out = op(x; p0, p1). Clamp uses [p0, p1]; the scalar ops use p0.
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) = 0;
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // Reduces x over `dims` (sorted, unique) into out (x's shape with dims set to 1).
  // For Max/Min, `index` (int64, same shape as out) receives the position along a
  // single reduced dim when defined.
  virtual void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                      const Tensor& index) = 0;
  // out[b] = a[b] · b[b] for contiguous 3-D a [B,M,K], b [B,K,N] (either may be a
  // transposed view, flagged by its strides), out contiguous [B,M,N].
  virtual void matmul(const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  virtual void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) = 0;
  virtual void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) = 0;
  // Philox draws: element i uses counter `offset + i` of `seed` (row-major over out).
  virtual void rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) = 0;
  virtual void rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) = 0;
  virtual void bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset) = 0;
};

// How a [.., rows, cols] matrix view lies in memory for a GEMM: row-major
// (stride(-1) == 1: transposed = false) or a transposed row-major matrix
// (stride(-2) == 1: transposed = true), with its leading dimension. matmul's front
// function guarantees one of the two.
void matrix_layout(const Tensor& t, bool& transposed, int64_t& ld);

// The backend of a device. Throws tg::Error naming the op when the device's backend
// is not compiled in or the device does not exist.
Backend& backend_for(Device device, const char* op);
Backend& cpu_backend();
// Installed by the CUDA backend at start-up when it is compiled in.
void register_cuda_backend(Backend* (*factory)(int index), int (*device_count)());

}  // namespace tg
