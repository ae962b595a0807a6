#pragma once
// Launchers of the fused optimizer updates (core/cuda/optim.cu). fmt-free like
// kernels.h: operands are raw device pointers to `n` contiguous elements of dtype
// `dt`; each launcher enqueues one kernel on `s` and returns the launch status.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/dtype.h"
#include "core/optim_math.h"

namespace tg::cuda {

// momentum_buf may equal grad when step.momentum == 0 (it is then never written).
cudaError_t launch_sgd_update(cudaStream_t s, DType dt, void* param, const void* grad, void* momentum_buf, int64_t n,
                              const SgdStep& step);
cudaError_t launch_adam_update(cudaStream_t s, DType dt, void* param, const void* grad, void* exp_avg,
                               void* exp_avg_sq, int64_t n, const AdamStep& step);

}  // namespace tg::cuda
