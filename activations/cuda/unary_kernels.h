#pragma once
// The launchers of the elementwise activations' CUDA kernels (unary.cu,
// unary_prelu.cu). Like core/cuda/kernels.h this is the boundary nvcc sees: no
// Tensor and no fmt, operands as raw pointers plus a Strided descriptor. Every
// launcher enqueues on `stream` and returns the launch status for the caller to check.
#include <cuda_runtime_api.h>

#include "activations/pointwise_basic.h"
#include "activations/pointwise_hard.h"
#include "activations/pointwise_rectifiers.h"
#include "activations/pointwise_smooth.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "core/cuda/kernels.h"

// Every f/df op of the pointwise_*.h headers: unary.cu instantiates their kernels
// and unary.cpp registers their CUDA entry points for exactly these (an op missing
// here has only its CPU kernel: on a CUDA tensor it fails with "no kernel for device").
// clang-format off
#define TG_POINTWISE_OPS(X)                                                       \
  X(Relu) X(Tanh) X(Sigmoid) X(Gelu) X(GeluTanh)                                  \
  X(LeakyRelu) X(Elu) X(EluFromOutput) X(Selu) X(Celu) X(CeluFromOutput)          \
  X(Silu) X(Mish) X(Softplus)                                                     \
  X(Hardsigmoid) X(Hardswish) X(Hardgelu) X(HardgeluClamped)
// clang-format on

namespace tg::act::cuda {

using tg::cuda::Strided;

// Operands {y, x}: y = op.f(x).
template <class Op>
cudaError_t launch_unary_forward(cudaStream_t stream, DType dt, const Op& op, void* y, const void* x,
                                 const Strided<2>& d);
// Operands {dx, g, s}: dx = op.df(g, s).
template <class Op>
cudaError_t launch_unary_backward(cudaStream_t stream, DType dt, const Op& op, void* dx, const void* g, const void* s,
                                  const Strided<3>& d);
// Operands {y, x}: y = op.sample(x, i), i the row-major index of the element.
cudaError_t launch_stochastic_gelu(cudaStream_t stream, DType dt, const StochasticGelu& op, void* y, const void* x,
                                   const Strided<2>& d);

// PReLU over contiguous x seen as [outer, channels, inner], w with `channels` slopes.
struct PreluShape {
  int64_t outer, channels, inner;
};
// y = Prelu::f(x, w[c]).
cudaError_t launch_prelu_forward(cudaStream_t stream, DType dt, void* y, const void* x, const void* w,
                                 const PreluShape& s);
// dx = Prelu::dx(g, x, w[c]) when dx is not null; dw[c] = Σ Prelu::da(g, x) over channel
// c when dw is not null, summed in double in a fixed order (two passes through
// `partials`, prelu_partials(s) doubles of device memory), so it is deterministic.
int64_t prelu_partials(const PreluShape& s);
cudaError_t launch_prelu_backward(cudaStream_t stream, DType dt, void* dx, void* dw, const void* g, const void* x,
                                  const void* w, const PreluShape& s, double* partials);

}  // namespace tg::act::cuda
