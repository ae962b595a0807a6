// GEMM: OpenBLAS's when the build has it (TG_HAVE_OPENBLAS; its OpenMP build, on the
// same thread pool as the library's loops: inside a parallel region it runs on the
// calling thread), else Eigen's. This is the only translation unit of core that includes
// either (Eigen is slow to compile). Matrices are used in place, never copied.
#include <Eigen/Core>
#include <omp.h>
#ifdef TG_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "core/cpu/cpu_backend.h"
#include "core/cpu/loops.h"

namespace tg::cpu {

#ifdef TG_HAVE_OPENBLAS
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta·C; beta == 0 must not read C (it may hold uninitialized memory or NaN poison)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    return;
  }
  // BLAS wants every leading dimension at least the row length, even where a single row
  // makes it meaningless (our views may carry any stride there).
  const auto ld = [](int64_t given, int64_t rows, int64_t cols) { return rows == 1 ? std::max(given, cols) : given; };
  lda = trans_a ? ld(lda, K, M) : ld(lda, M, K);
  ldb = trans_b ? ld(ldb, N, K) : ld(ldb, K, N);
  ldc = ld(ldc, M, N);
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  // With beta == 0 OpenBLAS overwrites C without reading it.
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
  }
}
#else
template <class T>
using RowMat = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;
template <class T>
using RowMatOut = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  RowMatOut<T> c(C, M, N, Eigen::OuterStride<>(ldc));
  RowMat<T> a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  RowMat<T> b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  // beta == 0 must not read C: it may hold uninitialized memory (or NaN poison).
  auto run = [&](const auto& x, const auto& y) {
    if (beta == T(0)) {
      c.noalias() = alpha * (x * y);
    } else {
      if (beta != T(1)) c *= beta;
      c.noalias() += alpha * (x * y);
    }
  };
  if (!trans_a && !trans_b) run(a, b);
  else if (trans_a && !trans_b) run(a.transpose(), b);
  else if (!trans_a && trans_b) run(a, b.transpose());
  else run(a.transpose(), b.transpose());
}
#endif

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

void CpuBackend::matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  bool ta, tb;
  int64_t lda, ldb;
  matrix_layout(a, ta, lda);
  matrix_layout(b, tb, ldb);
  auto one = [&](int64_t i, auto zero) {
    using T = decltype(zero);
    const T* ap = a.data<T>() + i * a.stride(0);
    const T* bp = b.data<T>() + i * b.stride(0);
    T* op = out.data<T>() + i * M * N;
    if (K == 0) {
      std::fill(op, op + M * N, T(0));
      return;
    }
    gemm<T>(ta, tb, M, N, K, T(1), ap, lda, bp, ldb, T(0), op, N);
  };
  auto run = [&](auto zero) {
    if (B > 1 && B >= omp_get_max_threads()) {
      parallel_for(B, true, [&](int64_t i) { one(i, zero); });
    } else {
      // The GEMM threads a large enough product (Eigen: 2 × 50000 multiply-adds or more): set their mode too.
      const TeamDenormalScope denormals((double)M * N * K >= 1e5);
      for (int64_t i = 0; i < B; ++i) one(i, zero);
    }
  };
  if (a.dtype() == DType::f32) run(float{});
  else run(double{});
}

}  // namespace tg::cpu
