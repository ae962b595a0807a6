#pragma once
// Shared by the MPI test executable's files: the process group every test case uses
// (made once in main: MPI can be initialized only once per process).
#include <memory>

#include "distributed/process_group.h"

namespace tg::testing {

std::shared_ptr<dist::ProcessGroup> test_group();

}  // namespace tg::testing
