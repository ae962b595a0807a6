#pragma once
#include <mutex>
#include <unordered_map>

#include "core/backend.h"

namespace tg::cpu {

// The CPU's primitives of core/backend.h; one instance (with the cache of freed
// blocks) fills the CPU slots of the dispatch tables (end of cpu_backend.cpp).
class CpuBackend {
 public:
  void* allocate(size_t nbytes);
  void deallocate(void* p, size_t nbytes);
  void copy(const Tensor& src, const Tensor& dst);
  void fill(const Tensor& dst, double value);
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1);
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
              const Tensor& index);
  void matmul(const Tensor& a, const Tensor& b, const Tensor& out);
  void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);
  void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
  void rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi);
  void rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev);
  void bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset);

 private:
  static constexpr size_t kMaxCachedBytes = size_t(1) << 30;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> free blocks
  size_t cached_bytes_ = 0;
};

// Single-precision and double-precision GEMM on raw row-major/column-major matrices,
// used by matmul and by layer kernels (convolution) that manage their own buffers.
// C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C, row-major C with leading dim ldc.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace tg::cpu
