// The backend's elementwise, reduction, indexing and random ops: each turns its
// tensors into kernel descriptors (strided.h) and queues one launcher (kernels.h).
#include <algorithm>

#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/strided.h"

namespace tg::cuda {

// kernels.h mirrors the op enums of core/backend.h; a reordering there must show here.
#define TG_SAME_ENUM(a, b) static_assert((int)a == (int)b, "kernels.h op enums are out of sync with core/backend.h")
TG_SAME_ENUM(UnaryOp::Neg, KUnary::Neg);
TG_SAME_ENUM(UnaryOp::Exp, KUnary::Exp);
TG_SAME_ENUM(UnaryOp::Log, KUnary::Log);
TG_SAME_ENUM(UnaryOp::Sqrt, KUnary::Sqrt);
TG_SAME_ENUM(UnaryOp::Abs, KUnary::Abs);
TG_SAME_ENUM(UnaryOp::Sign, KUnary::Sign);
TG_SAME_ENUM(UnaryOp::Square, KUnary::Square);
TG_SAME_ENUM(UnaryOp::Reciprocal, KUnary::Reciprocal);
TG_SAME_ENUM(UnaryOp::Clamp, KUnary::Clamp);
TG_SAME_ENUM(UnaryOp::PowScalar, KUnary::PowScalar);
TG_SAME_ENUM(UnaryOp::AddScalar, KUnary::AddScalar);
TG_SAME_ENUM(UnaryOp::MulScalar, KUnary::MulScalar);
TG_SAME_ENUM(UnaryOp::RSubScalar, KUnary::RSubScalar);
TG_SAME_ENUM(BinaryOp::Add, KBinary::Add);
TG_SAME_ENUM(BinaryOp::Sub, KBinary::Sub);
TG_SAME_ENUM(BinaryOp::Mul, KBinary::Mul);
TG_SAME_ENUM(BinaryOp::Div, KBinary::Div);
TG_SAME_ENUM(BinaryOp::Pow, KBinary::Pow);
TG_SAME_ENUM(BinaryOp::Max, KBinary::Max);
TG_SAME_ENUM(BinaryOp::Min, KBinary::Min);
TG_SAME_ENUM(BinaryOp::Eq, KBinary::Eq);
TG_SAME_ENUM(BinaryOp::Ne, KBinary::Ne);
TG_SAME_ENUM(BinaryOp::Lt, KBinary::Lt);
TG_SAME_ENUM(BinaryOp::Le, KBinary::Le);
TG_SAME_ENUM(BinaryOp::Gt, KBinary::Gt);
TG_SAME_ENUM(BinaryOp::Ge, KBinary::Ge);
TG_SAME_ENUM(ReduceOp::Sum, KReduce::Sum);
TG_SAME_ENUM(ReduceOp::Max, KReduce::Max);
TG_SAME_ENUM(ReduceOp::Min, KReduce::Min);
#undef TG_SAME_ENUM

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, double p0, double p1) {
  activate("unary");
  const Strided<2> d = make_strided<2>({&out, &x}, "unary");
  TG_CUDA_CHECK(launch_unary(stream_, (KUnary)op, x.dtype(), out.raw_data(), x.raw_data(), d, p0, p1), "unary");
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate("binary");
  const Strided<3> d = make_strided<3>({&out, &a, &b}, "binary");
  TG_CUDA_CHECK(launch_binary(stream_, (KBinary)op, a.dtype(), out.raw_data(), a.raw_data(), b.raw_data(), d),
                "binary");
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate("where");
  const Strided<4> d = make_strided<4>({&out, &cond, &a, &b}, "where");
  TG_CUDA_CHECK(launch_where(stream_, a.dtype(), out.raw_data(), cond.raw_data(), a.raw_data(), b.raw_data(), d),
                "where");
}

// x is viewed as [kept dims..., reduced dims...] (a permutation, no copy); out is
// contiguous over the kept dims, as the CPU backend writes it.
void CudaBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                         const Tensor& index) {
  activate("reduce");
  Shape kept_shape, kept_stride, red_shape, red_stride;
  for (int64_t i = 0; i < x.dim(); ++i) {
    const bool reduced = std::binary_search(dims.begin(), dims.end(), i);
    (reduced ? red_shape : kept_shape).push_back(x.size(i));
    (reduced ? red_stride : kept_stride).push_back(x.stride(i));
  }
  const Tensor outer(x.storage(), kept_shape, kept_stride, x.offset(), x.dtype());
  const Tensor inner(x.storage(), red_shape, red_stride, x.offset(), x.dtype());
  ReduceDesc d;
  d.outer = make_strided<1>({&outer}, "reduce");
  d.inner = make_strided<1>({&inner}, "reduce");
  const size_t scratch_bytes = reduce_scratch_bytes(d, sm_count_);
  Tensor scratch = scratch_bytes ? empty({(int64_t)(scratch_bytes + 7) / 8}, kFloat64, device()) : Tensor();
  TG_CUDA_CHECK(launch_reduce(stream_, (KReduce)op, x.dtype(), x.raw_data(), d, out.raw_data(),
                              index.defined() ? index.data<int64_t>() : nullptr,
                              scratch.defined() ? scratch.raw_data() : nullptr, sm_count_),
                "reduce");
}

// {index, vals, x} over the index's shape, with x's stride along dim zeroed (kernels.h).
static IndexDesc index_desc(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& vals, const char* op) {
  Shape xs = x.strides();
  xs[dim] = 0;
  const Tensor xv(x.storage(), index.shape(), xs, x.offset(), x.dtype());
  IndexDesc d;
  d.d = make_strided<3>({&index, &vals, &xv}, op);
  d.dim_stride = x.stride(dim);
  d.dim_size = x.size(dim);
  return d;
}

void CudaBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  activate("gather");
  const IndexDesc d = index_desc(x, dim, index, out, "gather");
  TG_CUDA_CHECK(launch_gather(stream_, x.dtype(), x.raw_data(), index.data<int64_t>(), out.raw_data(), d, error_device_),
                "gather");
}

void CudaBackend::scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  activate("scatter_add");
  const IndexDesc d = index_desc(out, dim, index, src, "scatter_add");
  TG_CUDA_CHECK(
      launch_scatter_add(stream_, out.dtype(), out.raw_data(), index.data<int64_t>(), src.raw_data(), d, error_device_),
      "scatter_add");
}

void CudaBackend::random(KRandom kind, const Tensor& out, const Tensor& p, uint64_t seed, uint64_t offset, double a,
                         double b, const char* op) {
  activate(op);
  const Tensor& q = p.defined() ? p : out;
  const Strided<2> d = make_strided<2>({&out, &q}, op);
  TG_CUDA_CHECK(launch_random(stream_, kind, out.dtype(), out.raw_data(), q.raw_data(), d, seed, offset, a, b), op);
}

void CudaBackend::rand_uniform(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi) {
  random(KRandom::Uniform, out, Tensor(), seed, offset, lo, hi, "rand");
}

void CudaBackend::rand_normal(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev) {
  random(KRandom::Normal, out, Tensor(), seed, offset, mean, stddev, "randn");
}

void CudaBackend::bernoulli(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset) {
  TG_CHECK(p.dtype() == out.dtype(), "bernoulli", "probabilities are {} but the output is {}", dtype_name(p.dtype()),
           dtype_name(out.dtype()));
  random(KRandom::Bernoulli, out, p, seed, offset, 0, 0, "bernoulli");
}

}  // namespace tg::cuda
