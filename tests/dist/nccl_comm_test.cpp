// The NCCL communicator builds and links against /usr/local/cuda's NCCL, and
// what can be checked without a GPU is checked: the library's version, and
// a clear error (not a crash) when there is no device to join with.
#include "nccl_comm.hpp"

#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::dist::nccl {
namespace {

TEST(NcclCommunicator, ReportsTheLibraryItWasBuiltAgainst) {
  EXPECT_EQ(NcclCommunicator::library_version(), NCCL_VERSION_CODE);
}

TEST(NcclCommunicator, WithoutAGpuJoiningIsAClearError) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0)
    GTEST_SKIP() << "a GPU is present: this checks the machines without one";
  try {
    NcclCommunicator communicator(UniqueId{}, 0, 1, 0);
    FAIL() << "joined without a GPU";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("CUDA cudaSetDevice failed: ", 0), 0U) << e.what();
  }
}

}  // namespace
}  // namespace loom::dist::nccl
