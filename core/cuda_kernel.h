#pragma once
// The public kernel-authoring header for the host side of CUDA kernels above core/
// (activations/cuda/*.cpp; built only with the CUDA backend): the dispatch tables,
// the Strided descriptor of N same-shape operands (make_strided), the device's
// stream, and checked CUDA calls (TG_CUDA_CHECK). The .cu files include
// core/cuda/device.cuh (grid sizes, Strided offsets, float/double launch dispatch).
#include <cuda_runtime_api.h>

#include "core/cuda/check.h"
#include "core/cuda/strided.h"
#include "core/dispatch.h"
#include "core/tensor.h"

namespace tg::cuda {

// Makes t's device current for the calling thread (naming op on failure) and returns
// the device's stream, on which every kernel, copy and library call of the device runs.
cudaStream_t stream_of(const Tensor& t, const char* op);

}  // namespace tg::cuda
