#pragma once
// Launchers of our own CNN kernels (cnn_pool.cu, cnn_batchnorm.cu): raw pointers and
// plain sizes, because nvcc never sees Tensor (core/cuda/kernels.h says why). Every
// launcher enqueues on `s` and returns the launch status for the caller to check.
// Operands are contiguous, of dtype dt (float32 or float64); indices are int64.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/dtype.h"

namespace tg::cuda {

// `planes` = N·C independent H×W input planes and OH×OW output planes; the window
// fields are used by max pooling only (adaptive pooling derives its bins from the sizes).
struct PoolDims {
  int64_t planes, H, W, OH, OW, KH, KW, sh, sw, ph, pw;
};

cudaError_t launch_max_pool2d(cudaStream_t s, DType dt, const void* x, void* y, int64_t* indices, const PoolDims& d);
cudaError_t launch_adaptive_avg_pool2d(cudaStream_t s, DType dt, const void* x, void* y, const PoolDims& d);
cudaError_t launch_adaptive_avg_pool2d_backward(cudaStream_t s, DType dt, const void* gy, void* gx,
                                                const PoolDims& d);

// x viewed as [N, C, L] (L = ∏ trailing dims). weight, bias, gx, gw, gb may be null.
struct ChannelDims {
  int64_t N, C, L;
};

cudaError_t launch_batch_norm_stats(cudaStream_t s, DType dt, const void* x, void* mean, void* var,
                                    const ChannelDims& d);
cudaError_t launch_batch_norm_apply(cudaStream_t s, DType dt, const void* x, const void* mean, const void* invstd,
                                    const void* weight, const void* bias, void* y, const ChannelDims& d);
cudaError_t launch_batch_norm_backward(cudaStream_t s, DType dt, const void* gy, const void* x, const void* mean,
                                       const void* invstd, const void* weight, bool batch_stats, void* gx, void* gw,
                                       void* gb, const ChannelDims& d);

}  // namespace tg::cuda
