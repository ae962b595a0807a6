#pragma once
// The NCCL backend: CUDA tensors, one GPU per rank (device rank % GPUs per process
// view). Bootstrapped over MPI: rank 0 makes the NCCL unique id and MPI broadcasts it
// (llm.c's multi_gpu_config_init). Collectives run on NCCL's own stream, after the
// compute stream's earlier work (an event) and before its later work (another
// event), so the host returns at once and the computation overlaps communication.
// wait() polls the done event against the group's deadline and NCCL's async error;
// on timeout it aborts the communicator and throws.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include "distributed/mpi_process_group.h"

namespace tg::dist {

class ProcessGroupNCCL final : public ProcessGroup {
 public:
  explicit ProcessGroupNCCL(std::chrono::milliseconds timeout);
  ~ProcessGroupNCCL() override;
  const char* backend() const override { return "nccl"; }
  DeviceType device_type() const override { return DeviceType::CUDA; }

  std::shared_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op) override;
  std::shared_ptr<Work> broadcast_async(const Tensor& t, int root) override;
  std::shared_ptr<Work> all_gather_async(const Tensor& in, const Tensor& out) override;
  void barrier() override;

  // Waits for `done`: throws (after aborting the communicator) on timeout or NCCL error.
  void wait_event(cudaEvent_t done, const std::string& where_op);

 private:
  using Call = std::function<ncclResult_t(cudaStream_t)>;
  std::shared_ptr<Work> launch(const char* op, const Tensor& t, const Tensor& keep, Call call);
  void check_on_device(const Tensor& t, const char* op) const;

  std::unique_ptr<ProcessGroupMPI> mpi_;  // bootstrap; destroyed last (finalizes MPI)
  int device_ = 0;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::string broken_;
};

}  // namespace tg::dist
