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
