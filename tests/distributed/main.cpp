// The MPI tests run as one doctest program per rank, under mpirun (see the
// TG_DISTRIBUTED block of CMakeLists.txt). Modes:
//   (none)              every case except "nccl: …", on an mpi group;
//   --nccl              the "nccl: …" cases on an nccl group; exit 77 (skipped) without a GPU;
//   --fault=kill|stall  rank 1 dies (SIGKILL) or hangs before an all_reduce, rank 0 must
//                       fail with a clear error within --timeout-ms (tests/distributed/fault.sh).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fmt/core.h>
#include <string>
#include <thread>

#include "core/device.h"
#include "core/ops.h"
#include "tests/distributed/dist_test.h"

namespace {
std::shared_ptr<tg::dist::ProcessGroup> g_group;

int fault(const std::string& mode, long timeout_ms) {
  using namespace tg;
using namespace tg::ops;
  auto pg = dist::init_process_group({.backend = "mpi", .timeout = std::chrono::milliseconds(timeout_ms)});
  Tensor t = ones({5});
  dist::all_reduce(*pg, t);  // all ranks alive
  if (pg->rank() == 1) {
    if (mode == "kill") std::raise(SIGKILL);
    std::this_thread::sleep_for(std::chrono::seconds(120));  // "stall": far beyond the timeout
  }
  try {
    dist::all_reduce(*pg, t);
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;  // destroying the broken group aborts the job
  }
  fmt::print(stderr, "rank {}: the all_reduce completed without rank 1\n", pg->rank());
  return 2;
}
}  // namespace

std::shared_ptr<tg::dist::ProcessGroup> tg::testing::test_group() { return g_group; }

int main(int argc, char** argv) {
  bool nccl = false;
  std::string fault_mode;
  long timeout_ms = 60000;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--nccl") == 0) nccl = true;
    else if (std::strncmp(argv[i], "--fault=", 8) == 0) fault_mode = argv[i] + 8;
    else if (std::strncmp(argv[i], "--timeout-ms=", 13) == 0) timeout_ms = std::stol(argv[i] + 13);
    else rest.push_back(argv[i]);
  }
  if (!fault_mode.empty()) return fault(fault_mode, timeout_ms);
  if (nccl && tg::cuda_device_count() == 0) {
    fmt::print("no CUDA device: the nccl tests are skipped\n");
    return 77;
  }
  g_group = tg::dist::init_process_group({.backend = nccl ? "nccl" : "mpi", .timeout = std::chrono::milliseconds(timeout_ms)});
  doctest::Context context;
  context.applyCommandLine((int)rest.size(), rest.data());
  context.setOption(nccl ? "test-case" : "test-case-exclude", "nccl*");
  const int rc = context.run();
  g_group.reset();  // finalizes MPI
  return rc;
}
