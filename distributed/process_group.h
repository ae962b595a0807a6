#pragma once
// ProcessGroup: the ranks of one data-parallel job and the collectives between them,
// as torch.distributed's process groups. Two backends:
//   mpi   Open MPI, CPU tensors (a communication thread runs non-blocking MPI calls);
//   nccl  NCCL, CUDA tensors (the NCCL unique id is broadcast over MPI; its own stream).
//
//   auto pg = dist::init_process_group({.backend = "mpi"});   // under mpirun -np N
//   dist::all_reduce(*pg, grad, dist::ReduceOp::Average);
//
// Contract: every rank calls the same collectives, with tensors of the same shape and
// dtype, in the same order (as MPI and NCCL require). Tensors are float32 or float64,
// contiguous or not; collectives work in place. A collective that does not complete
// within options.timeout (a rank died, hangs, or called something else) throws a
// tg::Error naming the op, the rank and the timeout; the group is then broken: every
// later call throws the same error, and destroying it aborts the whole job
// (MPI_Abort), since MPI cannot be shut down cleanly with a peer missing.
#include <chrono>
#include <memory>
#include <string>

#include "core/tensor.h"

namespace tg::dist {

enum class ReduceOp { Sum, Average };

struct ProcessGroupOptions {
  std::string backend = "mpi";                      // "mpi" or "nccl"
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // per collective
};

// A collective in flight. wait() returns when it is complete on this rank (its tensor
// holds the result) or throws the collective's error; it may be called more than once.
class Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }
  virtual const char* backend() const = 0;
  // The device type of the tensors this backend moves (CPU for mpi, CUDA for nccl).
  virtual DeviceType device_type() const = 0;
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Starts an in-place all-reduce of a contiguous tensor; the caller keeps t alive and
  // untouched until wait() returns. Collectives start in call order on every rank.
  virtual std::shared_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op) = 0;
  virtual std::shared_ptr<Work> broadcast_async(const Tensor& t, int root) = 0;
  // out: contiguous [size·in.numel()] of in's dtype; rank r's tensor lands in block r.
  virtual std::shared_ptr<Work> all_gather_async(const Tensor& in, const Tensor& out) = 0;
  virtual void barrier() = 0;

  // "op (rank r of n, backend)": the prefix of this group's error messages.
  std::string where(const char* op) const;
  // Throws unless t is a defined float32/float64 tensor on this backend's device.
  void check_tensor(const Tensor& t, const char* op) const;

 protected:
  int rank_ = 0;
  int size_ = 1;
  std::chrono::milliseconds timeout_{0};
};

// Creates the group of this process (MPI_Init on first use; under mpirun every
// process is one rank). Errors: an unknown backend, a backend not compiled in
// (TG_DISTRIBUTED=OFF, or nccl without CUDA), or nccl without a GPU per rank.
std::shared_ptr<ProcessGroup> init_process_group(const ProcessGroupOptions& options = {});

// Blocking collectives on tensors of any layout (non-contiguous ones go through a
// contiguous copy). all_reduce with Average divides the sum by size() on every rank.
void all_reduce(ProcessGroup& pg, const Tensor& t, ReduceOp op = ReduceOp::Sum);
void broadcast(ProcessGroup& pg, const Tensor& t, int root = 0);
// Returns [size, *t.shape]: rank r's tensor at index r.
Tensor all_gather(ProcessGroup& pg, const Tensor& t);

}  // namespace tg::dist
