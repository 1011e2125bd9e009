// Private to the `loom` command: what this binary is and what it was built
// with, Loom's own version and git commit and those of LibTorch, MPI, HDF5,
// CUDA and NCCL, and the BLAS with the kernels it runs, so that a result can
// be traced to a build. Printed by `loom --version`. It lives here rather than in loom_core because
// asking MPI and HDF5 for their versions links them, which the libraries need not.
#pragma once

#include <string>

namespace loom::cli {

struct Versions {
  std::string loom;        // "0.1.0"
  std::string git_commit;  // short hash at build time, "-dirty" with local changes, or "unknown"
  std::string build_type;
  std::string torch;  // LibTorch headers the binary was compiled against
  std::string mpi;    // the MPI library's own first line, read at run time
  std::string mpi_standard;
  std::string hdf5;  // the HDF5 library loaded at run time
  bool hdf5_parallel = false;
  bool cuda = false;
  std::string cuda_version;
  int cuda_devices = 0;  // GPUs LibTorch sees at run time
  bool nccl = false;
  std::string nccl_version;
  std::string
      blas;  // "OpenBLAS 0.3.21 (DYNAMIC_ARCH, OpenMP), Cooperlake kernels", "MKL (in LibTorch)"
};

Versions versions();

// The BLAS this process computes with, as one line.
std::string blas_summary();

// The multi-line text of `loom --version`.
std::string version_report();

}  // namespace loom::cli
