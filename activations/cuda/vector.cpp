// Host side of the vector activations' CUDA path: Tensors to the launchers of vector.cu,
// queued on the device's stream; each entry point fills the CUDA slot of its dispatch
// table (activations/kernels.h).
#include "activations/cuda/vector_launch.h"
#include "activations/kernels.h"
#include "core/cuda_kernel.h"
#include "core/ops.h"

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

Tensor forward(const Tensor& x, const VectorGrouping& grouping, cuda::VectorGate gate, const cuda::GateParams& params,
               const char* op) {
  const cuda::VectorDesc q = describe(x, grouping, op);
  Tensor y = empty_like(x);
  TG_CUDA_CHECK(
      cuda::launch_vector_forward(cuda::stream_of(x, op), x.dtype(), q, gate, params, x.raw_data(), y.raw_data()), op);
  return y;
}

cuda::GateParams erf_params(double sigma) {
  cuda::GateParams a;
  a.sigma = sigma;
  return a;
}

// dx, the gate parameter's gradient into dparam and each vector's term into per_vector
// (float64, one per vector) when they are non-null.
Tensor backward(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, cuda::VectorGate gate,
                const cuda::GateParams& params, Tensor* dparam, const char* op, Tensor* per_vector = nullptr) {
  const cuda::VectorDesc q = describe(x, grouping, op);
  const cudaStream_t stream = cuda::stream_of(x, op);
  Tensor dx = empty_like(x), partials;
  if (dparam != nullptr) partials = empty({cuda::vector_backward_partials(q)}, kFloat64, x.device());
  double* pp = dparam != nullptr ? static_cast<double*>(partials.raw_data()) : nullptr;
  if (per_vector != nullptr) *per_vector = empty({q.count}, kFloat64, x.device());
  double* pv = per_vector != nullptr ? static_cast<double*>(per_vector->raw_data()) : nullptr;
  TG_CUDA_CHECK(cuda::launch_vector_backward(stream, x.dtype(), q, gate, params, x.raw_data(), g.raw_data(),
                                             dx.raw_data(), pp, pv),
                op);
  if (dparam != nullptr) {
    *dparam = empty({1}, kFloat64, x.device());
    TG_CUDA_CHECK(cuda::launch_sum_partials(stream, pp, partials.numel(), static_cast<double*>(dparam->raw_data())),
                  op);
  }
  return dx;
}

Tensor vec_gelu_cuda(const Tensor& x, const VectorGrouping& grouping) {
  return forward(x, grouping, cuda::VectorGate::VecGelu, {}, "vec_gelu");
}

Tensor vec_gelu_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping) {
  return backward(x, g, grouping, cuda::VectorGate::VecGelu, {}, nullptr, "vec_gelu_backward");
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
  const char* op = "vector_scale";
  const cuda::VectorDesc q = describe(in, grouping, op);
  Tensor out = empty_like(in);
  TG_CUDA_CHECK(cuda::launch_vector_scale(cuda::stream_of(in, op), in.dtype(), q, in.raw_data(), scale.raw_data(),
                                          out.raw_data()),
                op);
  return out;
}

Tensor vec_erf_cuda(const Tensor& x, const VectorGrouping& grouping, double sigma) {
  return forward(x, grouping, cuda::VectorGate::Erf, erf_params(sigma), "vec_erf");
}

Tensor vec_erf_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping, double sigma,
                             Tensor& dsigma) {
  return backward(x, g, grouping, cuda::VectorGate::Erf, erf_params(sigma), &dsigma, "vec_erf_backward");
}

// The launch parameters of a norm gate; `bias` (float64, on x's device) and `table`
// must outlive the launch, which they do: the caller holds them until it returns.
cuda::GateParams norm_params(const NormGateArgs& a) {
  cuda::GateParams p;
  p.phi = (int)a.kind;
  p.normalize = a.normalize;
  p.bias = static_cast<const double*>(a.bias.raw_data());
  p.group_stride = a.group_stride;
  p.groups = a.groups;
  if (a.table.defined()) p.table = static_cast<const double*>(a.table.raw_data());
  return p;
}

cuda::VectorGate norm_kind(const NormGateArgs& a) {
  return a.table.defined() ? cuda::VectorGate::Table : cuda::VectorGate::Norm;
}

Tensor norm_gate_cuda(const Tensor& x, const VectorGrouping& grouping, const NormGateArgs& args) {
  return forward(x, grouping, norm_kind(args), norm_params(args), "norm_activation");
}

Tensor norm_gate_backward_cuda(const Tensor& x, const Tensor& g, const VectorGrouping& grouping,
                               const NormGateArgs& args, Tensor* per_vector) {
  return backward(x, g, grouping, norm_kind(args), norm_params(args), nullptr, "norm_activation_backward",
                  per_vector);
}

Tensor scale_vectors_backward_cuda(const Tensor& x, const Tensor& g, const Tensor& scale,
                                   const VectorGrouping& grouping, Tensor& dots) {
  cuda::GateParams p;
  p.scale = scale.raw_data();
  return backward(x, g, grouping, cuda::VectorGate::Scale, p, nullptr, "scale_vectors_backward", &dots);
}

Tensor vector_sq_norms_cuda(const Tensor& x, const VectorGrouping& grouping) {
  Tensor dots;
  scale_vectors_backward_cuda(x, x, zeros({describe(x, grouping, "vector_norms").count}, x.dtype(), x.device()),
                              grouping, dots);
  return dots;
}

Tensor vector_dropout_cuda(const Tensor& x, const VectorGrouping& grouping, uint64_t seed, uint64_t offset,
                           double keep, double kept_scale, Tensor& scale) {
  const char* op = "vector_dropout";
  const cuda::VectorDesc q = describe(x, grouping, op);
  Tensor y = empty_like(x);
  scale = empty({q.count}, x.dtype(), x.device());
  TG_CUDA_CHECK(cuda::launch_vector_dropout(cuda::stream_of(x, op), x.dtype(), q, seed, offset, keep, kept_scale,
                                            x.raw_data(), y.raw_data(), scale.raw_data()),
                op);
  return y;
}

Tensor vector_argmax_cuda(const Tensor& x, const VectorGrouping& grouping) {
  const char* op = "maxout";
  const cuda::VectorDesc q = describe(x, grouping, op);
  Tensor index = empty({q.count}, kInt64, x.device());
  TG_CUDA_CHECK(cuda::launch_vector_argmax(cuda::stream_of(x, op), x.dtype(), q, x.raw_data(), index.data<int64_t>()),
                op);
  return index;
}

Tensor vector_sort_cuda(const Tensor& x, const VectorGrouping& grouping, bool descending) {
  const char* op = "group_sort";
  const cuda::VectorDesc q = describe(x, grouping, op);
  const int64_t d = q.blocks ? q.k * q.k : q.d;
  TG_CHECK(d <= cuda::kMaxSortDim, op, "a CUDA device sorts vectors of up to {} elements, got d = {} ({})",
           cuda::kMaxSortDim, d, grouping.str());
  Tensor source = empty({x.numel()}, kInt64, x.device());
  TG_CUDA_CHECK(cuda::launch_vector_sort(cuda::stream_of(x, op), x.dtype(), q, descending, x.raw_data(),
                                         source.data<int64_t>()),
                op);
  return source;
}

Tensor norm_max_pool_index_cuda(const Tensor& x, int64_t kernel, int64_t stride, int64_t ho, int64_t wo) {
  const char* op = "norm_max_pool";
  const Tensor r2 = vector_sq_norms_cuda(x, VectorGrouping::channels());
  cuda::NormMaxPoolDesc p;
  p.n = x.size(0), p.c = x.size(1), p.h = x.size(2), p.w = x.size(3);
  p.kernel = kernel, p.stride = stride, p.ho = ho, p.wo = wo;
  Tensor index = empty({p.n, p.c, ho, wo}, kInt64, x.device());
  TG_CUDA_CHECK(cuda::launch_norm_max_pool_index(cuda::stream_of(x, op), p, static_cast<const double*>(r2.raw_data()),
                                                 index.data<int64_t>()),
                op);
  return index;
}

// take and put_add by the backend's gather and scatter_add (see activations/kernels.h).
Tensor take_cuda(const Tensor& x, const Tensor& index, const Shape& shape) {
  return ops::gather(x.reshape({x.numel()}), 0, index).reshape(shape);
}

Tensor put_add_cuda(const Tensor& g, const Tensor& index, const Shape& shape) {
  return ops::scatter_add({shape_numel(shape)}, 0, index, g).reshape(shape);
}

TG_REGISTER_KERNEL(vec_gelu_forward_stub, DeviceType::CUDA, vec_gelu_cuda);
TG_REGISTER_KERNEL(vec_gelu_backward_stub, DeviceType::CUDA, vec_gelu_backward_cuda);
TG_REGISTER_KERNEL(probabilistic_vec_gelu_stub, DeviceType::CUDA, probabilistic_vec_gelu_cuda);
TG_REGISTER_KERNEL(vector_scale_stub, DeviceType::CUDA, vector_scale_cuda);
TG_REGISTER_KERNEL(vec_erf_forward_stub, DeviceType::CUDA, vec_erf_cuda);
TG_REGISTER_KERNEL(vec_erf_backward_stub, DeviceType::CUDA, vec_erf_backward_cuda);
TG_REGISTER_KERNEL(norm_gate_stub, DeviceType::CUDA, norm_gate_cuda);
TG_REGISTER_KERNEL(norm_gate_backward_stub, DeviceType::CUDA, norm_gate_backward_cuda);
TG_REGISTER_KERNEL(scale_vectors_backward_stub, DeviceType::CUDA, scale_vectors_backward_cuda);
TG_REGISTER_KERNEL(vector_sq_norms_stub, DeviceType::CUDA, vector_sq_norms_cuda);
TG_REGISTER_KERNEL(vector_dropout_stub, DeviceType::CUDA, vector_dropout_cuda);
TG_REGISTER_KERNEL(vector_argmax_stub, DeviceType::CUDA, vector_argmax_cuda);
TG_REGISTER_KERNEL(vector_sort_stub, DeviceType::CUDA, vector_sort_cuda);
TG_REGISTER_KERNEL(norm_max_pool_index_stub, DeviceType::CUDA, norm_max_pool_index_cuda);
TG_REGISTER_KERNEL(take_stub, DeviceType::CUDA, take_cuda);
TG_REGISTER_KERNEL(put_add_stub, DeviceType::CUDA, put_add_cuda);

}  // namespace
}  // namespace tg::act
