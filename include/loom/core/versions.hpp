// What this binary is and what it was built with: Loom's own version and
// those of LibTorch, MPI, HDF5, CUDA and NCCL. Printed by `loom --version`
// and recorded in every run directory, so a result can be traced to a build.
#pragma once

#include <string>

namespace loom {

struct Versions {
  std::string loom;        // "0.1.0"
  std::string git_commit;  // short hash, or "unknown" outside a git checkout
  std::string build_type;
  std::string torch;  // LibTorch headers the binary was compiled against
  std::string mpi;    // the MPI library's own first line, read at run time
  std::string mpi_standard;
  std::string hdf5;  // the HDF5 library loaded at run time
  bool hdf5_parallel = false;
  bool cuda = false;
  std::string cuda_version;
  bool nccl = false;
  std::string nccl_version;
};

Versions versions();

// The multi-line text of `loom --version`.
std::string version_report();

}  // namespace loom
