#pragma once
// The launchers of tapegrad's CUDA kernels. This header is the boundary between the
// .cu files (compiled by nvcc, which cannot parse fmt and therefore never sees
// Tensor) and the backend's host code: operands travel as raw pointers plus a
// plain descriptor of shapes and strides. Every launcher enqueues on `stream` and
// returns the launch status (cudaGetLastError) for the caller to check and report.
#include <cstdint>

#include <cuda_runtime_api.h>

#include "core/dtype.h"

namespace tg::cuda {

// Dims left after merging neighbours that are contiguous for every operand.
inline constexpr int kMaxDims = 10;

// N operands viewed with one shape; strides in elements (0 on broadcast dims).
// `contiguous` marks the case where every operand's offset equals the linear index.
template <int N>
struct Strided {
  int32_t ndim = 0;
  bool contiguous = false;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};
};

// Mirrors of UnaryOp/BinaryOp/ReduceOp (core/backend.h pulls in fmt, which nvcc
// cannot compile); the backend checks that the values agree.
enum class KUnary { Neg, Exp, Log, Sqrt, Abs, Sign, Square, Reciprocal, Clamp, PowScalar, AddScalar, MulScalar, RSubScalar };
enum class KBinary { Add, Sub, Mul, Div, Pow, Max, Min, Eq, Ne, Lt, Le, Gt, Ge };
enum class KReduce { Sum, Max, Min };

// out = value (dtype of out).
cudaError_t launch_fill(cudaStream_t s, DType dt, void* out, const Strided<1>& d, double value);
// out[i] = (To)in[i] over operands {out, in}.
cudaError_t launch_convert(cudaStream_t s, DType to, void* out, DType from, const void* in, const Strided<2>& d);
// Operands {out, x}; float dtypes.
cudaError_t launch_unary(cudaStream_t s, KUnary op, DType dt, void* out, const void* x, const Strided<2>& d, double p0,
                         double p1);
// Operands {out, a, b}.
cudaError_t launch_binary(cudaStream_t s, KBinary op, DType dt, void* out, const void* a, const void* b,
                          const Strided<3>& d);
// Operands {out, cond, a, b}.
cudaError_t launch_where(cudaStream_t s, DType dt, void* out, const void* cond, const void* a, const void* b,
                         const Strided<4>& d);

// x seen as [outer (kept dims), inner (reduced dims)], both possibly strided; out and
// index (may be null) contiguous with `outer.numel` elements. Partial results of long
// reductions go to `scratch` (scratch_bytes from reduce_scratch_bytes).
struct ReduceDesc {
  Strided<1> outer, inner;
};
size_t reduce_scratch_bytes(const ReduceDesc& d, int sm_count);
cudaError_t launch_reduce(cudaStream_t s, KReduce op, DType dt, const void* x, const ReduceDesc& d, void* out,
                          int64_t* index, void* scratch, int sm_count);

// Operands {index, vals, x} over the index's shape, x's stride along `dim` set to 0
// (so that dims coalesce); x's true stride and size along dim come separately.
// gather: vals[i] = x[... index[i] ...]; scatter_add: x[... index[i] ...] += vals[i]
// (atomic). An out-of-range index is recorded in `error` ({op code, index, size},
// device memory) for the host to report at its next synchronization; gather writes
// NaN there.
struct IndexDesc {
  Strided<3> d;
  int64_t dim_stride = 0, dim_size = 0;
};
inline constexpr int64_t kGatherError = 1, kScatterError = 2;
cudaError_t launch_gather(cudaStream_t s, DType dt, const void* x, const int64_t* index, void* vals,
                          const IndexDesc& d, int64_t* error);
cudaError_t launch_scatter_add(cudaStream_t s, DType dt, void* x, const int64_t* index, const void* vals,
                               const IndexDesc& d, int64_t* error);

// Philox draws: element i (row-major over out) uses block (seed, offset + i).
enum class KRandom { Uniform, Normal, Bernoulli };
// Uniform: lo + (hi - lo) * u; Normal: a + b * z; Bernoulli: operands {out, p}, u <= p.
cudaError_t launch_random(cudaStream_t s, KRandom kind, DType dt, void* out, const void* p, const Strided<2>& d,
                          uint64_t seed, uint64_t offset, double a, double b);

}  // namespace tg::cuda
