// The one place that knows which backends this build has (the build defines
// TG_WITH_MPI and TG_WITH_NCCL; see the TG_DISTRIBUTED block of CMakeLists.txt).
#include "distributed/process_group.h"

#ifdef TG_WITH_MPI
#include "distributed/mpi_process_group.h"
#endif
#ifdef TG_WITH_NCCL
#include "distributed/nccl_process_group.h"
#endif

namespace tg::dist {

std::shared_ptr<ProcessGroup> init_process_group(const ProcessGroupOptions& options) {
  const char* op = "init_process_group";
  TG_CHECK(options.backend == "mpi" || options.backend == "nccl", op, "unknown backend '{}' (expected mpi or nccl)",
           options.backend);
#ifdef TG_WITH_NCCL
  if (options.backend == "nccl") return std::make_shared<ProcessGroupNCCL>(options.timeout);
#else
  TG_CHECK(options.backend != "nccl", op,
           "the nccl backend is not compiled in (it needs the CUDA backend, NCCL and MPI; see TG_DISTRIBUTED)");
#endif
#ifdef TG_WITH_MPI
  return std::make_shared<ProcessGroupMPI>(options.timeout);
#else
  throw Error(std::string(op) + ": the mpi backend is not compiled in (configure with -DTG_DISTRIBUTED=ON and "
              "Open MPI installed: apt-get install libopenmpi-dev openmpi-bin)");
#endif
}

}  // namespace tg::dist
