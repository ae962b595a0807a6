// cpu::gemm (OpenBLAS's or Eigen's, core/cpu/matmul.cpp) against a plain triple loop in
// long double: all four transpose cases, alpha and beta, leading dimensions wider than
// the rows, single rows with a meaningless stride, K = 0, and beta = 0 over NaN poison.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"

using namespace tg;

namespace {

template <class T>
std::vector<T> reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const std::vector<T>& A,
                         int64_t lda, const std::vector<T>& B, int64_t ldb, T beta, std::vector<T> C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      long double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += (long double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = (T)(alpha * s + (beta == T(0) ? 0.0L : (long double)beta * C[i * ldc + j]));
    }
  return C;
}

template <class T>
void check_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, T beta, int64_t pad) {
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  std::vector<T> A((ta ? K : M) * lda + 1), B((tb ? N : K) * ldb + 1), C(M * ldc + 1);
  for (size_t i = 0; i < A.size(); ++i) A[i] = T(std::sin(0.7 * (double)i));
  for (size_t i = 0; i < B.size(); ++i) B[i] = T(std::cos(1.3 * (double)i));
  for (size_t i = 0; i < C.size(); ++i) C[i] = beta == T(0) ? std::numeric_limits<T>::quiet_NaN() : T(0.5 * (double)(i % 7));
  const std::vector<T> want = reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  cpu::gemm<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      INFO("ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K << " at " << i << "," << j);
      REQUIRE(std::isfinite((double)C[i * ldc + j]));
      CHECK(std::abs((double)C[i * ldc + j] - (double)want[i * ldc + j]) <= tol * (1 + std::abs((double)want[i * ldc + j])));
    }
}

}  // namespace

TEST_CASE("gemm: transposes, alpha and beta, padded leading dimensions, NaN-poisoned C under beta = 0") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_case<float>(ta, tb, 37, 29, 53, 1.0f, 0.0f, 3);
      check_case<float>(ta, tb, 5, 70, 9, -0.5f, 1.0f, 0);
      check_case<double>(ta, tb, 64, 33, 100, 2.0, 0.25, 1);
      check_case<double>(ta, tb, 1, 17, 8, 1.0, 0.0, 0);   // one row
      check_case<double>(ta, tb, 13, 1, 8, 1.0, 0.0, 0);   // one column
      check_case<float>(ta, tb, 6, 4, 0, 1.0f, 0.0f, 0);   // K = 0: C = 0 though it held NaN
      check_case<float>(ta, tb, 6, 4, 0, 1.0f, 2.0f, 2);   // K = 0: C = beta·C
    }
}

TEST_CASE("gemm: a single row may carry any leading dimension, as a view's stride") {
  // A is 1×K with lda = 1 (a column view's stride): BLAS would reject lda < K.
  std::vector<double> A{1, 2, 3}, B{1, 0, 0, 1, 1, 1}, C(2, std::nan(""));
  cpu::gemm<double>(false, false, 1, 2, 3, 1.0, A.data(), 1, B.data(), 2, 0.0, C.data(), 2);
  CHECK(C == std::vector<double>{4, 5});
}
