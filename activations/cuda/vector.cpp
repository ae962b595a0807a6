// Host side of the vector activations' CUDA path: Tensors to the launchers of vector.cu,
// queued on the device's stream; each entry point fills the CUDA slot of its dispatch
// table (activations/kernels.h).
#include "activations/cuda/vector_launch.h"
#include "activations/kernels.h"
#include "core/cuda_kernel.h"

namespace tg::act {
namespace {

// The kernels' view of x's vectors (the VectorPlan checks the shape, naming op).
cuda::VectorDesc describe(const Tensor& x, const VectorGrouping& grouping, const char* op) {
  const VectorPlan plan(x.shape(), grouping, op);
  const Shape& s = x.shape();
  cuda::VectorDesc q;
  q.count = plan.count();
  switch (grouping.kind) {
    case VectorGrouping::Kind::LastDim: q.d = s.back(); break;
    case VectorGrouping::Kind::Blocks:
      q.blocks = true;
      q.k = grouping.block;
      q.h = s[2];
      q.w = s[3];
      q.nbh = (q.h + q.k - 1) / q.k;
      q.nbw = (q.w + q.k - 1) / q.k;
      break;
    case VectorGrouping::Kind::Channels:
      q.d = s[1];
      q.step = plan.positions();
      break;
  }
  return q;
}

Tensor forward(const Tensor& x, const VectorGrouping& grouping, cuda::VectorGate gate, double sigma, const char* op) {
  const cuda::VectorDesc q = describe(x, grouping, op);
  Tensor y = empty_like(x);
  TG_CUDA_CHECK(
      cuda::launch_vector_forward(cuda::stream_of(x, op), x.dtype(), q, gate, sigma, x.raw_data(), y.raw_data()), op);
  return y;
}

// dx, and the gate parameter's gradient into dparam when it is non-null.
Tensor backward(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, cuda::VectorGate gate, double sigma,
                Tensor* dparam, const char* op) {
  const cuda::VectorDesc q = describe(x, grouping, op);
  const cudaStream_t stream = cuda::stream_of(x, op);
  Tensor dx = empty_like(x), partials;
  if (dparam != nullptr) partials = empty({cuda::vector_backward_partials(q)}, kFloat64, x.device());
  double* pp = dparam != nullptr ? static_cast<double*>(partials.raw_data()) : nullptr;
  TG_CUDA_CHECK(cuda::launch_vector_backward(stream, x.dtype(), q, gate, sigma, x.raw_data(), g.raw_data(),
                                             dx.raw_data(), pp),
                op);
  if (dparam != nullptr) {
    *dparam = empty({1}, kFloat64, x.device());
    TG_CUDA_CHECK(cuda::launch_sum_partials(stream, pp, partials.numel(), static_cast<double*>(dparam->raw_data())),
                  op);
  }
  return dx;
}

Tensor vec_gelu_cuda(const Tensor& x, const VectorGrouping& grouping) {
  return forward(x, grouping, cuda::VectorGate::VecGelu, 0.0, "vec_gelu");
}

Tensor vec_gelu_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping) {
  return backward(x, g, grouping, cuda::VectorGate::VecGelu, 0.0, nullptr, "vec_gelu_backward");
}

Tensor probabilistic_vec_gelu_cuda(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                                   Tensor& p) {
  const char* op = "probabilistic_vec_gelu";
  const cuda::VectorDesc q = describe(x, grouping, op);
  Tensor y = empty_like(x);
  p = empty({q.count}, x.dtype(), x.device());
  TG_CUDA_CHECK(cuda::launch_vector_prob_forward(cuda::stream_of(x, op), x.dtype(), q, seed, offset, x.raw_data(),
                                                 y.raw_data(), p.raw_data()),
                op);
  return y;
}

Tensor vector_scale_cuda(const Tensor& in, const Tensor& scale, const VectorGrouping& grouping) {
  const char* op = "probabilistic_vec_gelu_backward";
  const cuda::VectorDesc q = describe(in, grouping, op);
  Tensor out = empty_like(in);
  TG_CUDA_CHECK(cuda::launch_vector_scale(cuda::stream_of(in, op), in.dtype(), q, in.raw_data(), scale.raw_data(),
                                          out.raw_data()),
                op);
  return out;
}

Tensor vec_erf_cuda(const Tensor& x, const VectorGrouping& grouping, double sigma) {
  return forward(x, grouping, cuda::VectorGate::Erf, sigma, "vec_erf");
}

Tensor vec_erf_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, double sigma,
                             Tensor& dsigma) {
  return backward(x, g, grouping, cuda::VectorGate::Erf, sigma, &dsigma, "vec_erf_backward");
}

TG_REGISTER_KERNEL(vec_gelu_forward_stub, DeviceType::CUDA, vec_gelu_cuda);
TG_REGISTER_KERNEL(vec_gelu_backward_stub, DeviceType::CUDA, vec_gelu_backward_cuda);
TG_REGISTER_KERNEL(probabilistic_vec_gelu_stub, DeviceType::CUDA, probabilistic_vec_gelu_cuda);
TG_REGISTER_KERNEL(vector_scale_stub, DeviceType::CUDA, vector_scale_cuda);
TG_REGISTER_KERNEL(vec_erf_forward_stub, DeviceType::CUDA, vec_erf_cuda);
TG_REGISTER_KERNEL(vec_erf_backward_stub, DeviceType::CUDA, vec_erf_backward_cuda);

}  // namespace
}  // namespace tg::act
