#include "loom/hardware/cuda_capability.hpp"

#include "loom/core/build_info.hpp"

#if LOOM_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace loom::hardware {

std::optional<ComputeCapability> cuda_compute_capability(int device_index) {
#if LOOM_WITH_CUDA
  ComputeCapability capability;
  if (cudaDeviceGetAttribute(&capability.major, cudaDevAttrComputeCapabilityMajor, device_index) !=
          cudaSuccess ||
      cudaDeviceGetAttribute(&capability.minor, cudaDevAttrComputeCapabilityMinor, device_index) !=
          cudaSuccess) {
    return std::nullopt;
  }
  return capability;
#else
  (void)device_index;
  return std::nullopt;
#endif
}

}  // namespace loom::hardware
