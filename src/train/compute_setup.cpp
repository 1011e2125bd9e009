#include "loom/train/compute_setup.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <malloc.h>
#include <sched.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"

namespace loom::train {

std::int64_t usable_cpu_count() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::max(1, CPU_COUNT(&mask));
  return std::max(1U, std::thread::hardware_concurrency());
}

std::int64_t configure_cpu_threads(std::int64_t requested, int local_ranks) {
  std::int64_t threads = requested;
  if (threads == 0) {
    const std::int64_t usable = usable_cpu_count();
    const bool pinned = usable < static_cast<std::int64_t>(std::thread::hardware_concurrency());
    threads = pinned ? usable : std::max<std::int64_t>(1, usable / std::max(1, local_ranks));
  }
  torch::set_num_threads(static_cast<int>(threads));
  return threads;
}

PrecisionChoice choose_precision(config::Precision requested, const PrecisionFacts& facts) {
  if (requested != config::Precision::automatic) {
    return {requested, "set in the config"};
  }
  if (facts.cuda) {
    if (!facts.capability)
      return {config::Precision::fp32, "auto: the GPU's compute capability is unknown"};
    const hardware::ComputeCapability& cc = *facts.capability;
    if (hardware::native_bf16_matmul(cc)) {
      return {config::Precision::bf16,
              fmt::format("auto: the GPU (compute capability {}.{}) multiplies bf16 natively",
                          cc.major, cc.minor)};
    }
    return {config::Precision::fp32,
            fmt::format("auto: the GPU (compute capability {}.{}) has no native bf16", cc.major,
                        cc.minor)};
  }
  const hardware::CpuFeatures& cpu = facts.cpu;
  if (cpu.native_bf16_matmul()) {
    const std::string units = cpu.amx_bf16 && cpu.avx512_bf16 ? "AMX, AVX512-BF16"
                              : cpu.amx_bf16                  ? "AMX"
                                                              : "AVX512-BF16";
    return {config::Precision::bf16,
            fmt::format("auto: this CPU multiplies bf16 natively ({})", units)};
  }
  return {config::Precision::fp32,
          "auto: this CPU has no native bf16 matrix products (AVX512-BF16 or AMX), where bf16 "
          "would be slower than fp32"};
}

PrecisionChoice choose_precision(config::Precision requested, const torch::Device& device) {
  PrecisionFacts facts;
  facts.cuda = device.is_cuda();
  if (requested == config::Precision::automatic) {
    if (facts.cuda) {
      facts.capability = hardware::cuda_compute_capability(device.has_index() ? device.index() : 0);
    } else {
      facts.cpu = hardware::detect_cpu_features();
    }
  }
  return choose_precision(requested, facts);
}

std::optional<at::ScalarType> autocast_dtype_for(config::Precision precision,
                                                 const torch::Device& device) {
  switch (precision) {
    case config::Precision::automatic:  // chosen before this point
    case config::Precision::fp32:
      return std::nullopt;
    case config::Precision::bf16:
      return at::kBFloat16;
    case config::Precision::fp16:
      if (!device.is_cuda()) {
        throw UsageError(
            "train.precision is fp16, which needs a CUDA device (LibTorch autocasts to bf16 "
            "only on the CPU); use train.precision: bf16 or fp32 here");
      }
      return at::kHalf;
  }
  return std::nullopt;
}

void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace loom::train
