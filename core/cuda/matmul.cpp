// Batched matmul through cuBLAS's strided-batched GEMM. cuBLAS is column-major: a
// row-major C = A·B is the column-major C^T = B^T·A^T, so B goes first and a
// row-major operand needs no transpose flag while a transposed view does.
// float32 runs in full precision unless set_allow_tf32(true) opted into TF32.
#include <algorithm>

#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda_api.h"

namespace tg::cuda {

void CudaBackend::matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  if (B == 0 || M == 0 || N == 0) return;
  activate("matmul");
  if (K == 0) {
    fill(out, 0.0);
    return;
  }
  bool ta, tb;
  int64_t lda, ldb;
  matrix_layout(a, ta, lda);
  matrix_layout(b, tb, ldb);
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (a.dtype() == DType::f32) {
    TG_CUBLAS_CHECK(cublasSetMathMode(cublas_, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                    "matmul");
    const float one = 1.0f, zero = 0.0f;
    TG_CUBLAS_CHECK(cublasSgemmStridedBatched_64(cublas_, opb, opa, N, M, K, &one, b.data<float>(), ldb, b.stride(0),
                                                 a.data<float>(), lda, a.stride(0), &zero, out.data<float>(), N,
                                                 M * N, B),
                    "matmul");
  } else {
    const double one = 1.0, zero = 0.0;
    TG_CUBLAS_CHECK(cublasDgemmStridedBatched_64(cublas_, opb, opa, N, M, K, &one, b.data<double>(), ldb, b.stride(0),
                                                 a.data<double>(), lda, a.stride(0), &zero, out.data<double>(), N,
                                                 M * N, B),
                    "matmul");
  }
}

}  // namespace tg::cuda
