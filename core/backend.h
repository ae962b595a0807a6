#pragma once
// core's device primitives: the kernels every backend provides, each a DispatchStub
// (core/dispatch.h). Front functions check arguments, allocate, and call e.g.
// binary_stub(device, "add", op, a, b, out); callers above core never see them.
// Operands arrive already broadcast (expanded views) to the output's shape.
#include <cstdint>
#include <vector>

#include "core/cuda_api.h"
#include "core/dispatch.h"
#include "core/tensor.h"

namespace tg {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Abs, Sign, Square, Reciprocal, Clamp, PowScalar, AddScalar, MulScalar, RSubScalar };
enum class BinaryOp { Add, Sub, Mul, Div, Pow, Max, Min, Eq, Ne, Lt, Le, Gt, Ge };
enum class ReduceOp { Sum, Max, Min };

// Storage of `nbytes` (> 0) on the device; freed with the same size.
extern DispatchStub<void* (*)(Device, size_t nbytes)> allocate_stub;
extern DispatchStub<void (*)(Device, void* p, size_t nbytes)> deallocate_stub;
// dst = src elementwise (same shape; dtypes may differ). Dispatched on the device
// that is not the CPU when the two differ; src then arrives contiguous.
extern DispatchStub<void (*)(const Tensor& src, const Tensor& dst)> copy_stub;
extern DispatchStub<void (*)(const Tensor& dst, double value)> fill_stub;
// out = op(x; p0, p1). Clamp uses [p0, p1]; the scalar ops use p0.
extern DispatchStub<void (*)(UnaryOp, const Tensor& x, const Tensor& out, double p0, double p1)> unary_stub;
extern DispatchStub<void (*)(BinaryOp, const Tensor& a, const Tensor& b, const Tensor& out)> binary_stub;
extern DispatchStub<void (*)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out)> where_stub;
// Reduces x over `dims` (sorted, unique) into out (x's shape with dims set to 1).
// For Max/Min, `index` (int64, same shape as out) receives the position along a
// single reduced dim when defined.
extern DispatchStub<void (*)(ReduceOp, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
                             const Tensor& index)>
    reduce_stub;
// out[b] = a[b] · b[b] for contiguous 3-D a [B,M,K], b [B,K,N] (either may be a
// transposed view, flagged by its strides), out contiguous [B,M,N].
extern DispatchStub<void (*)(const Tensor& a, const Tensor& b, const Tensor& out)> matmul_stub;
extern DispatchStub<void (*)(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out)> gather_stub;
extern DispatchStub<void (*)(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src)> scatter_add_stub;
// Philox draws: element i uses counter `offset + i` of `seed` (row-major over out).
extern DispatchStub<void (*)(const Tensor& out, uint64_t seed, uint64_t offset, double lo, double hi)>
    rand_uniform_stub;
extern DispatchStub<void (*)(const Tensor& out, uint64_t seed, uint64_t offset, double mean, double stddev)>
    rand_normal_stub;
extern DispatchStub<void (*)(const Tensor& p, const Tensor& out, uint64_t seed, uint64_t offset)> bernoulli_stub;
// The device controls of core/cuda_api.h (registered by the CUDA backend only).
extern DispatchStub<CudaMemoryStats (*)(Device)> memory_stats_stub;
extern DispatchStub<void (*)(Device)> empty_cache_stub;
extern DispatchStub<void (*)(Device)> synchronize_stub;

// How a [.., rows, cols] matrix view lies in memory for a GEMM: row-major
// (stride(-1) == 1: transposed = false) or a transposed row-major matrix
// (stride(-2) == 1: transposed = true), with its leading dimension. matmul's front
// function guarantees one of the two.
void matrix_layout(const Tensor& t, bool& transposed, int64_t& ld);

}  // namespace tg
