// Host side of the elementwise activations' CUDA kernels: Tensors to pointers and
// Strided descriptors, launches on the device's stream, errors as tg::Error; each
// entry point fills the CUDA slot of its dispatch table (activations/unary.h,
// activations/kernels.h). Checks of dtype and shape happen before, in the
// device-independent code.
#include "activations/cuda/unary_kernels.h"
#include "activations/kernels.h"
#include "activations/unary.h"
#include "core/cuda_kernel.h"

namespace tg::act::cuda {
namespace {

using tg::cuda::make_strided;
using tg::cuda::stream_of;

template <class Op>
Tensor unary_forward(const Op& op, const Tensor& x, const char* name) {
  const cudaStream_t stream = stream_of(x, name);
  Tensor y = empty_like(x);
  const Strided<2> d = make_strided<2>({&y, &x}, name);
  TG_CUDA_CHECK(launch_unary_forward(stream, x.dtype(), op, y.raw_data(), x.raw_data(), d), name);
  return y;
}

template <class Op>
Tensor unary_backward(const Op& op, const Tensor& g, const Tensor& s, const char* name) {
  const cudaStream_t stream = stream_of(s, name);
  Tensor dx = empty_like(s);
  const Strided<3> d = make_strided<3>({&dx, &g, &s}, name);
  TG_CUDA_CHECK(launch_unary_backward(stream, s.dtype(), op, dx.raw_data(), g.raw_data(), s.raw_data(), d), name);
  return dx;
}


Tensor stochastic_gelu_forward(const StochasticGelu& op, const Tensor& x) {
  const cudaStream_t stream = stream_of(x, "stochastic_gelu");
  Tensor y = empty_like(x);
  const Strided<2> d = make_strided<2>({&y, &x}, "stochastic_gelu");
  TG_CUDA_CHECK(launch_stochastic_gelu(stream, x.dtype(), op, y.raw_data(), x.raw_data(), d), "stochastic_gelu");
  return y;
}

// An empty x (no slopes, or a zero-sized spatial dim: inner = 0) has outer = 0, which
// launches nothing (and avoids dividing by zero).
PreluShape prelu_shape(const Tensor& x, const Tensor& w, int64_t inner) {
  const int64_t per_outer = w.numel() * inner;
  return {per_outer == 0 ? 0 : x.numel() / per_outer, w.numel(), inner};
}

Tensor prelu_forward(const Tensor& x, const Tensor& w, int64_t inner) {
  const cudaStream_t stream = stream_of(x, "prelu");
  Tensor y = empty_like(x);
  TG_CUDA_CHECK(
      launch_prelu_forward(stream, x.dtype(), y.raw_data(), x.raw_data(), w.raw_data(), prelu_shape(x, w, inner)),
      "prelu");
  return y;
}

std::vector<Tensor> prelu_backward(const Tensor& g, const Tensor& x, const Tensor& w, int64_t inner,
                                   const std::vector<bool>& need) {
  const cudaStream_t stream = stream_of(x, "prelu_backward");
  const PreluShape s = prelu_shape(x, w, inner);
  const Tensor gc = g.contiguous();
  // dw starts at zero: an empty input launches nothing.
  Tensor dx = need[0] ? empty_like(x) : Tensor(), dw = need[1] ? zeros_like(w) : Tensor();
  Tensor partials = need[1] ? empty({prelu_partials(s)}, kFloat64, x.device()) : Tensor();
  TG_CUDA_CHECK(
      launch_prelu_backward(stream, x.dtype(), need[0] ? dx.raw_data() : nullptr, need[1] ? dw.raw_data() : nullptr,
                            gc.raw_data(), x.raw_data(), w.raw_data(), s, need[1] ? partials.data<double>() : nullptr),
      "prelu_backward");
  return {dx, dw};
}

#define TG_REGISTER_UNARY(Op)                                                                    \
  TG_REGISTER_KERNEL(UnaryKernels<Op>::forward, DeviceType::CUDA, unary_forward<Op>); \
  TG_REGISTER_KERNEL(UnaryKernels<Op>::backward, DeviceType::CUDA, unary_backward<Op>);
TG_POINTWISE_OPS(TG_REGISTER_UNARY)
#undef TG_REGISTER_UNARY
TG_REGISTER_KERNEL(UnaryKernels<StochasticGelu>::backward, DeviceType::CUDA, unary_backward<StochasticGelu>);
TG_REGISTER_KERNEL(stochastic_gelu_stub, DeviceType::CUDA, stochastic_gelu_forward);
TG_REGISTER_KERNEL(prelu_forward_stub, DeviceType::CUDA, prelu_forward);
TG_REGISTER_KERNEL(prelu_backward_stub, DeviceType::CUDA, prelu_backward);

}  // namespace
}  // namespace tg::act::cuda
