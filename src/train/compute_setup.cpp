#include "loom/train/compute_setup.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <malloc.h>
#include <sched.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"

namespace loom::train {

torch::Device resolve_device(config::Device requested, int local_rank) {
  const bool have_cuda = torch::cuda::is_available();
  if (requested == config::Device::cpu || (requested == config::Device::automatic && !have_cuda))
    return torch::Device(torch::kCPU);
  if (!have_cuda) {
    throw UsageError(
        "run.device is cuda, but LibTorch sees no CUDA device (this build's LibTorch may be "
        "CPU-only; `loom --version` says); use run.device: cpu or auto");
  }
  const auto devices = static_cast<int>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % devices));
}

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

std::optional<at::ScalarType> autocast_dtype_for(config::Precision precision,
                                                 const torch::Device& device) {
  switch (precision) {
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
