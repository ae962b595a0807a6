#pragma once
// The MPI backend: CPU tensors over Open MPI. One communication thread per group owns
// every MPI call after MPI_Init (MPI_THREAD_SERIALIZED is enough): it starts each
// collective as a non-blocking MPI request, in submission order, and polls it against
// the group's deadline, so the caller's thread keeps computing while data moves and
// a dead peer becomes an error instead of a hang.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mpi.h>
#include <mutex>
#include <thread>

#include "distributed/process_group.h"

namespace tg::dist {

class ProcessGroupMPI final : public ProcessGroup {
 public:
  explicit ProcessGroupMPI(std::chrono::milliseconds timeout);
  ~ProcessGroupMPI() override;
  const char* backend() const override { return "mpi"; }
  DeviceType device_type() const override { return DeviceType::CPU; }

  std::shared_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op) override;
  std::shared_ptr<Work> broadcast_async(const Tensor& t, int root) override;
  std::shared_ptr<Work> all_gather_async(const Tensor& in, const Tensor& out) override;
  void barrier() override;
  // Broadcasts raw bytes (the NCCL unique id); `data` must stay valid until wait().
  std::shared_ptr<Work> broadcast_bytes_async(void* data, int nbytes, int root);

 private:
  struct Task;
  // start(request) issues one non-blocking MPI call; finish() runs after it completes.
  std::shared_ptr<Work> submit(const char* op, std::function<int(MPI_Request*)> start, std::function<void()> finish);
  void loop();
  void run(Task& task);

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Task>> queue_;
  bool stop_ = false;
  std::string broken_;  // the first timeout or MPI error; every later call fails with it
  std::thread thread_;
};

}  // namespace tg::dist
