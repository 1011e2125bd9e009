// The MPI communicator shared by every test of a binary that ctest runs
// under mpirun: MPI starts once per process, so one object serves them all.
#pragma once

#include <memory>

#include "loom/dist/communicator.hpp"

namespace loom::test {

inline dist::Communicator& mpi_world() {
  static const std::unique_ptr<dist::Communicator> communicator = dist::make_mpi_communicator();
  return *communicator;
}

}  // namespace loom::test
