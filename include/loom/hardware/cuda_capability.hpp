// A CUDA device's compute capability, asked from the CUDA runtime. In a
// build without CUDA (LOOM_WITH_CUDA 0) there is no device to ask.
#pragma once

#include <optional>

namespace loom::hardware {

struct ComputeCapability {
  int major = 0;
  int minor = 0;
};

// None without CUDA in the build, or when the runtime cannot answer.
std::optional<ComputeCapability> cuda_compute_capability(int device_index);

// bf16 matrix products run on the tensor cores from Ampere (8.0) on.
inline bool native_bf16_matmul(const ComputeCapability& capability) {
  return capability.major >= 8;
}

}  // namespace loom::hardware
