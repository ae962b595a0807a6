#pragma once
// The elementwise activations on a CUDA device: Tensors in, kernels of unary.cu and
// unary_prelu.cu queued on the device's stream (core/cuda/cuda_backend.h), Tensors
// out. Only in builds with the CUDA backend (TG_WITH_CUDA); activations/unary.h and
// the activations' .cpp files dispatch here for CUDA tensors. Checks of dtype and
// shape happen before, in the device-independent code.
#include "activations/pointwise_rectifiers.h"
#include "activations/pointwise_stochastic_gelu.h"
#include "core/tensor.h"

namespace tg::act::cuda {

// y = op.f(x), y contiguous; x any layout. Instantiated for the ops of TG_POINTWISE_OPS.
template <class Op>
Tensor unary_forward(const Op& op, const Tensor& x, const char* name);
// dx = op.df(g, s), dx contiguous; g and s any layout, same shape and dtype.
template <class Op>
Tensor unary_backward(const Op& op, const Tensor& g, const Tensor& s, const char* name);

// y = op.sample(x_i, i) with i the row-major index, y contiguous.
Tensor stochastic_gelu_forward(const StochasticGelu& op, const Tensor& x);

// PReLU of contiguous x seen as [outer, channels, inner] with contiguous slopes w.
Tensor prelu_forward(const Tensor& x, const Tensor& w, int64_t inner);
// {dx, dw}, each computed only where `need` asks (else undefined); g any layout.
std::vector<Tensor> prelu_backward(const Tensor& g, const Tensor& x, const Tensor& w, int64_t inner,
                                   const std::vector<bool>& need);

}  // namespace tg::act::cuda
