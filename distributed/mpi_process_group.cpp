#include "distributed/mpi_process_group.h"

#include <cstdio>
#include <fmt/format.h>

namespace tg::dist {

namespace {

// Groups alive in this process: MPI is initialized with the first and finalized with
// the last, when tapegrad initialized it.
std::mutex g_init_mutex;
int g_groups = 0;
bool g_we_initialized = false;

MPI_Datatype mpi_type(DType d) { return d == kFloat64 ? MPI_DOUBLE : MPI_FLOAT; }

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, len);
}

class MpiWork final : public Work {
 public:
  void wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return done_; });
    if (!error_.empty()) throw Error(error_);
  }
  void complete(std::string error) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
      error_ = std::move(error);
    }
    done_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::string error_;
};

}  // namespace

struct ProcessGroupMPI::Task {
  const char* op;
  std::function<int(MPI_Request*)> start;
  std::function<void()> finish;
  std::shared_ptr<MpiWork> work;
};

ProcessGroupMPI::ProcessGroupMPI(std::chrono::milliseconds timeout) {
  TG_CHECK(timeout.count() > 0, "init_process_group (mpi)", "timeout must be positive, got {} ms", timeout.count());
  timeout_ = timeout;
  {
    std::lock_guard<std::mutex> lock(g_init_mutex);
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      TG_CHECK(rc == MPI_SUCCESS, "init_process_group (mpi)", "MPI_Init_thread failed: {}", mpi_error(rc));
      TG_CHECK(provided >= MPI_THREAD_SERIALIZED, "init_process_group (mpi)",
               "this MPI provides thread level {}, the communication thread needs MPI_THREAD_SERIALIZED", provided);
      g_we_initialized = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    ++g_groups;
  }
  thread_ = std::thread([this] { loop(); });
}

ProcessGroupMPI::~ProcessGroupMPI() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (!broken_.empty()) {
    // A request is still pending on a peer that is gone: MPI cannot finalize.
    std::fprintf(stderr, "tapegrad: aborting the MPI job after: %s\n", broken_.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  std::lock_guard<std::mutex> lock(g_init_mutex);
  MPI_Comm_free(&comm_);
  if (--g_groups == 0 && g_we_initialized) MPI_Finalize();
}

std::shared_ptr<Work> ProcessGroupMPI::submit(const char* op, std::function<int(MPI_Request*)> start,
                                             std::function<void()> finish) {
  auto task = std::make_shared<Task>(Task{op, std::move(start), std::move(finish), std::make_shared<MpiWork>()});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!broken_.empty()) throw Error(broken_);
    queue_.push_back(task);
  }
  wake_.notify_all();
  return task->work;
}

void ProcessGroupMPI::loop() {
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      if (!broken_.empty()) {
        lock.unlock();
        task->work->complete(broken_);
        continue;
      }
    }
    run(*task);
  }
}

// Starts the request and polls it: MPI moves a non-blocking collective's data only
// inside MPI calls, so the thread polls (yielding the core) for 1 ms, then naps 50 µs
// between polls so that a long wait for a slow rank leaves the cores to computation.
void ProcessGroupMPI::run(Task& task) {
  const std::string where_op = where(task.op);
  MPI_Request request = MPI_REQUEST_NULL;
  int rc = task.start(&request);
  std::string error;
  if (rc != MPI_SUCCESS) error = fmt::format("{}: MPI error: {}", where_op, mpi_error(rc));
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
  while (error.empty()) {
    int done = 0;
    rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      error = fmt::format("{}: MPI error: {}", where_op, mpi_error(rc));
    } else if (done) {
      break;
    } else if (std::chrono::steady_clock::now() > deadline) {
      error = fmt::format("{}: timed out after {:.1f} s waiting for the other ranks (a rank died, hangs, or called a "
                          "different collective)",
                          where_op, (double)timeout_.count() / 1000.0);
    } else if (std::chrono::steady_clock::now() < spin_until) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  if (error.empty() && task.finish) task.finish();
  if (!error.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    broken_ = error;
  }
  task.work->complete(error);
}

std::shared_ptr<Work> ProcessGroupMPI::all_reduce_async(const Tensor& t, ReduceOp op) {
  check_tensor(t, "all_reduce");
  TG_CHECK(t.is_contiguous(), where("all_reduce"), "all_reduce_async needs a contiguous tensor (all_reduce copies)");
  MPI_Comm comm = comm_;
  std::function<int(MPI_Request*)> begin = [t, comm](MPI_Request* r) {
    return MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), (int)t.numel(), mpi_type(t.dtype()), MPI_SUM, comm, r);
  };
  std::function<void()> finish;
  if (op == ReduceOp::Average) {
    const int n = size_;
    finish = [t, n] {  // the same division on every rank keeps the replicas bit-identical
      if (t.dtype() == kFloat64) {
        double* p = t.data<double>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] /= n;
      } else {
        float* p = t.data<float>();
        for (int64_t i = 0; i < t.numel(); ++i) p[i] /= (float)n;
      }
    };
  }
  return submit("all_reduce", std::move(begin), std::move(finish));
}

std::shared_ptr<Work> ProcessGroupMPI::broadcast_async(const Tensor& t, int root) {
  check_tensor(t, "broadcast");
  TG_CHECK(t.is_contiguous(), where("broadcast"), "broadcast_async needs a contiguous tensor (broadcast copies)");
  TG_CHECK(root >= 0 && root < size_, where("broadcast"), "root {} is not a rank of a group of {}", root, size_);
  MPI_Comm comm = comm_;
  return submit("broadcast",
                [t, root, comm](MPI_Request* r) {
                  return MPI_Ibcast(t.raw_data(), (int)t.numel(), mpi_type(t.dtype()), root, comm, r);
                },
                {});
}

std::shared_ptr<Work> ProcessGroupMPI::all_gather_async(const Tensor& in, const Tensor& out) {
  check_tensor(in, "all_gather");
  check_tensor(out, "all_gather");
  TG_CHECK(in.is_contiguous() && out.is_contiguous() && out.numel() == in.numel() * size_ && out.dtype() == in.dtype(),
           where("all_gather"), "needs contiguous tensors, out of {} elements of {}; got in {} {}, out {} {}",
           in.numel() * size_, dtype_name(in.dtype()), dtype_name(in.dtype()), shape_str(in.shape()),
           dtype_name(out.dtype()), shape_str(out.shape()));
  MPI_Comm comm = comm_;
  return submit("all_gather",
                [in, out, comm](MPI_Request* r) {
                  const int n = (int)in.numel();
                  return MPI_Iallgather(in.raw_data(), n, mpi_type(in.dtype()), out.raw_data(), n,
                                        mpi_type(in.dtype()), comm, r);
                },
                {});
}

void ProcessGroupMPI::barrier() {
  MPI_Comm comm = comm_;
  submit("barrier", [comm](MPI_Request* r) { return MPI_Ibarrier(comm, r); }, {})->wait();
}

std::shared_ptr<Work> ProcessGroupMPI::broadcast_bytes_async(void* data, int nbytes, int root) {
  MPI_Comm comm = comm_;
  return submit("broadcast",
                [data, nbytes, root, comm](MPI_Request* r) { return MPI_Ibcast(data, nbytes, MPI_BYTE, root, comm, r); },
                {});
}

}  // namespace tg::dist
