#pragma once
#include <mutex>
#include <unordered_map>

#include "core/backend.h"

namespace tg::cpu {

class CpuBackend final : public Backend {
 public:
  void* allocate(size_t nbytes) override;
  void deallocate(void* p, size_t nbytes) override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
              const Tensor& index) override;
  void matmul(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) override;
  void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;
  void rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) override;
  void rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) override;
  void bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset) override;

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
