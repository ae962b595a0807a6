#include "distributed/nccl_process_group.h"

#include <cstdio>
#include <fmt/format.h>

#include "core/cuda_kernel.h"

namespace tg::dist {

namespace {

ncclDataType_t nccl_type(DType d) { return d == kFloat64 ? ncclFloat64 : ncclFloat32; }

std::string nccl_error(ncclResult_t r, ncclComm_t comm) {
  const char* last = comm ? ncclGetLastError(comm) : nullptr;
  return last && *last ? fmt::format("{} ({})", ncclGetErrorString(r), last) : std::string(ncclGetErrorString(r));
}

class NcclWork final : public Work {
 public:
  NcclWork(ProcessGroupNCCL* pg, std::string where_op, cudaEvent_t done, Tensor t, Tensor keep)
      : pg_(pg), where_(std::move(where_op)), done_(done), t_(std::move(t)), keep_(std::move(keep)) {}
  ~NcclWork() override { cudaEventDestroy(done_); }
  void wait() override { pg_->wait_event(done_, where_); }

 private:
  ProcessGroupNCCL* pg_;
  std::string where_;
  cudaEvent_t done_;
  Tensor t_, keep_;  // the buffers stay allocated until the collective is complete
};

}  // namespace

ProcessGroupNCCL::ProcessGroupNCCL(std::chrono::milliseconds timeout)
    : mpi_(std::make_unique<ProcessGroupMPI>(timeout)) {
  rank_ = mpi_->rank();
  size_ = mpi_->size();
  timeout_ = timeout;
  const int gpus = cuda_device_count();
  TG_CHECK(gpus > 0, where("init_process_group"), "the nccl backend needs a CUDA device, found none");
  device_ = rank_ % gpus;
  ncclUniqueId id{};
  if (rank_ == 0) {
    const ncclResult_t r = ncclGetUniqueId(&id);
    TG_CHECK(r == ncclSuccess, where("init_process_group"), "ncclGetUniqueId failed: {}", nccl_error(r, nullptr));
  }
  mpi_->broadcast_bytes_async(&id, (int)sizeof(id), 0)->wait();
  TG_CUDA_CHECK(cudaSetDevice(device_), where("init_process_group"));
  const ncclResult_t r = ncclCommInitRank(&comm_, size_, id, rank_);
  TG_CHECK(r == ncclSuccess, where("init_process_group"), "ncclCommInitRank on cuda:{} failed: {}", device_,
           nccl_error(r, nullptr));
  TG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), where("init_process_group"));
}

ProcessGroupNCCL::~ProcessGroupNCCL() {
  if (!broken_.empty()) {
    std::fprintf(stderr, "tapegrad: aborting the job after: %s\n", broken_.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  ncclCommDestroy(comm_);
  cudaStreamDestroy(stream_);
}

void ProcessGroupNCCL::check_on_device(const Tensor& t, const char* op) const {
  check_tensor(t, op);
  TG_CHECK(t.is_contiguous(), where(op), "the async collectives need a contiguous tensor");
  TG_CHECK(t.device().index == device_, where(op), "this rank's GPU is cuda:{}, got a tensor on {}", device_,
           t.device().str());
  TG_CHECK(broken_.empty(), where(op), "the group is broken: {}", broken_);
}

// Orders the collective after the compute stream's queued work and the compute stream's
// later work after the collective; the host does not wait.
std::shared_ptr<Work> ProcessGroupNCCL::launch(const char* op, const Tensor& t, const Tensor& keep, Call call) {
  const std::string where_op = where(op);
  cudaStream_t compute = cuda::stream_of(t, op);
  cudaEvent_t ready = nullptr, done = nullptr;
  TG_CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), where_op);
  TG_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), where_op);
  auto work = std::make_shared<NcclWork>(this, where_op, done, t, keep);
  TG_CUDA_CHECK(cudaEventRecord(ready, compute), where_op);
  TG_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready, 0), where_op);
  cudaEventDestroy(ready);
  const ncclResult_t r = call(stream_);
  TG_CHECK(r == ncclSuccess, where_op, "NCCL call failed: {}", nccl_error(r, comm_));
  TG_CUDA_CHECK(cudaEventRecord(done, stream_), where_op);
  TG_CUDA_CHECK(cudaStreamWaitEvent(compute, done, 0), where_op);
  return work;
}

void ProcessGroupNCCL::wait_event(cudaEvent_t done, const std::string& where_op) {
  TG_CHECK(broken_.empty(), where_op, "the group is broken: {}", broken_);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const cudaError_t e = cudaEventQuery(done);
    if (e == cudaSuccess) return;
    std::string error;
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(comm_, &async);
    if (e != cudaErrorNotReady) {
      error = fmt::format("{}: CUDA error: {}", where_op, cudaGetErrorString(e));
    } else if (async != ncclSuccess && async != ncclInProgress) {
      error = fmt::format("{}: NCCL error: {}", where_op, nccl_error(async, comm_));
    } else if (std::chrono::steady_clock::now() > deadline) {
      error = fmt::format("{}: timed out after {:.1f} s waiting for the other ranks (a rank died, hangs, or called a "
                          "different collective)",
                          where_op, (double)timeout_.count() / 1000.0);
    }
    if (!error.empty()) {
      ncclCommAbort(comm_);
      comm_ = nullptr;
      broken_ = error;
      throw Error(error);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

std::shared_ptr<Work> ProcessGroupNCCL::all_reduce_async(const Tensor& t, ReduceOp op) {
  check_on_device(t, "all_reduce");
  ncclComm_t comm = comm_;
  return launch("all_reduce", t, Tensor(), [t, op, comm](cudaStream_t s) {
    return ncclAllReduce(t.raw_data(), t.raw_data(), (size_t)t.numel(), nccl_type(t.dtype()),
                         op == ReduceOp::Average ? ncclAvg : ncclSum, comm, s);
  });
}

std::shared_ptr<Work> ProcessGroupNCCL::broadcast_async(const Tensor& t, int root) {
  check_on_device(t, "broadcast");
  TG_CHECK(root >= 0 && root < size_, where("broadcast"), "root {} is not a rank of a group of {}", root, size_);
  ncclComm_t comm = comm_;
  return launch("broadcast", t, Tensor(), [t, root, comm](cudaStream_t s) {
    return ncclBroadcast(t.raw_data(), t.raw_data(), (size_t)t.numel(), nccl_type(t.dtype()), root, comm, s);
  });
}

std::shared_ptr<Work> ProcessGroupNCCL::all_gather_async(const Tensor& in, const Tensor& out) {
  check_on_device(in, "all_gather");
  check_on_device(out, "all_gather");
  TG_CHECK(out.numel() == in.numel() * size_ && out.dtype() == in.dtype(), where("all_gather"),
           "out must hold {} elements of {}, got {} {}", in.numel() * size_, dtype_name(in.dtype()),
           dtype_name(out.dtype()), shape_str(out.shape()));
  ncclComm_t comm = comm_;
  return launch("all_gather", out, in, [in, out, comm](cudaStream_t s) {
    return ncclAllGather(in.raw_data(), out.raw_data(), (size_t)in.numel(), nccl_type(in.dtype()), comm, s);
  });
}

// The ranks' queued GPU work is not part of a barrier (as torch's, which syncs the host only).
void ProcessGroupNCCL::barrier() {
  TG_CHECK(broken_.empty(), where("barrier"), "the group is broken: {}", broken_);
  mpi_->barrier();
}

}  // namespace tg::dist
