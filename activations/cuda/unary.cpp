// Host side of the elementwise activations' CUDA kernels: Tensors to pointers and
// Strided descriptors, launches on the device's stream, errors as tg::Error.
#include "activations/cuda/unary.h"

#include "activations/cuda/unary_kernels.h"
#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/strided.h"

namespace tg::act::cuda {

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

#define TG_INSTANTIATE(Op)                                                  \
  template Tensor unary_forward<Op>(const Op&, const Tensor&, const char*); \
  template Tensor unary_backward<Op>(const Op&, const Tensor&, const Tensor&, const char*);
TG_POINTWISE_OPS(TG_INSTANTIATE)
#undef TG_INSTANTIATE
template Tensor unary_backward<StochasticGelu>(const StochasticGelu&, const Tensor&, const Tensor&, const char*);

Tensor stochastic_gelu_forward(const StochasticGelu& op, const Tensor& x) {
  const cudaStream_t stream = stream_of(x, "stochastic_gelu");
  Tensor y = empty_like(x);
  const Strided<2> d = make_strided<2>({&y, &x}, "stochastic_gelu");
  TG_CUDA_CHECK(launch_stochastic_gelu(stream, x.dtype(), op, y.raw_data(), x.raw_data(), d), "stochastic_gelu");
  return y;
}

// An empty x (no slopes, or a zero-sized spatial dim: inner = 0) has outer = 0, which
// launches nothing (and avoids dividing by zero).
static PreluShape prelu_shape(const Tensor& x, const Tensor& w, int64_t inner) {
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

}  // namespace tg::act::cuda
