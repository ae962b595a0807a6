#pragma once
// Checked CUDA and cuBLAS calls (host code): a failure throws tg::Error naming the op
// that issued the call, the call itself and the library's status text.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"

#define TG_CUDA_CHECK(call, op)                                                                       \
  do {                                                                                                \
    const cudaError_t tg_err_ = (call);                                                               \
    if (tg_err_ != cudaSuccess)                                                                       \
      throw ::tg::Error(fmt::format("{}: CUDA call {} failed: {} ({})", op, #call,                    \
                                    cudaGetErrorString(tg_err_), cudaGetErrorName(tg_err_)));         \
  } while (0)

#define TG_CUBLAS_CHECK(call, op)                                                                     \
  do {                                                                                                \
    const cublasStatus_t tg_st_ = (call);                                                             \
    if (tg_st_ != CUBLAS_STATUS_SUCCESS)                                                              \
      throw ::tg::Error(fmt::format("{}: cuBLAS call {} failed: {}", op, #call, cublasGetStatusString(tg_st_))); \
  } while (0)
