#include "versions.hpp"

#include "git_commit.hpp"  // generated at build time, see cmake/LoomGitCommit.cmake
#include <ATen/Context.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <mpi.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "loom/core/build_info.hpp"
#include "loom/hardware/blas_library.hpp"

namespace loom::cli {
namespace {

// MPI_Get_library_version may be called before MPI_Init; Open MPI answers
// with several lines, of which the first names the implementation.
std::string mpi_library_version() {
  char buffer[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(buffer, &length) != MPI_SUCCESS) return "unknown";
  std::string text(buffer, static_cast<size_t>(length));
  const size_t end = text.find_first_of(",\n");
  if (end != std::string::npos) text.resize(end);
  return text;
}

}  // namespace

std::string blas_summary() {
  const hardware::OpenBlas openblas = hardware::probe_openblas();
  if (openblas.loaded) {
    return fmt::format("OpenBLAS {} ({}{}), {} kernels", openblas.version,
                       openblas.dynamic_arch ? "DYNAMIC_ARCH, " : "", openblas.threading,
                       openblas.core);
  }
  if (at::hasMKL()) return "MKL (inside LibTorch)";
  return "no OpenBLAS or MKL found in this process";
}

Versions versions() {
  Versions v;
  v.loom = LOOM_VERSION;
  v.git_commit = LOOM_GIT_COMMIT;
  v.build_type = LOOM_BUILD_TYPE;
  v.torch = TORCH_VERSION;
  v.mpi = mpi_library_version();
  int major = 0;
  int minor = 0;
  MPI_Get_version(&major, &minor);
  v.mpi_standard = fmt::format("{}.{}", major, minor);
  unsigned h5_major = 0;
  unsigned h5_minor = 0;
  unsigned h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  v.hdf5 = fmt::format("{}.{}.{}", h5_major, h5_minor, h5_release);
#ifdef H5_HAVE_PARALLEL
  v.hdf5_parallel = true;
#endif
  v.cuda = LOOM_WITH_CUDA != 0;
  v.cuda_version = LOOM_CUDA_VERSION;
  if (v.cuda) v.cuda_devices = static_cast<int>(torch::cuda::device_count());
  v.nccl = LOOM_WITH_NCCL != 0;
  v.nccl_version = LOOM_NCCL_VERSION;
  v.blas = blas_summary();
  return v;
}

std::string version_report() {
  const Versions v = versions();
  std::string text =
      fmt::format("loom {} (git {}, {} build)\n", v.loom, v.git_commit, v.build_type);
  text += fmt::format("  LibTorch  {}\n", v.torch);
  text += fmt::format("  MPI       {} (MPI standard {})\n", v.mpi, v.mpi_standard);
  text += fmt::format("  HDF5      {} ({})\n", v.hdf5, v.hdf5_parallel ? "parallel" : "serial");
  text += v.cuda ? fmt::format("  CUDA      {} ({} GPU{} visible)\n", v.cuda_version,
                               v.cuda_devices, v.cuda_devices == 1 ? "" : "s")
                 : "  CUDA      not built in (the LibTorch used has no CUDA)\n";
  text += fmt::format("  NCCL      {}\n", v.nccl ? v.nccl_version : "not built in");
  text += fmt::format("  BLAS      {}\n", v.blas);
  return text;
}

}  // namespace loom::cli
