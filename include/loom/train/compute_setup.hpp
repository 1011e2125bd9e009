// How a process computes, once its device is known (dist::connect picks
// it): on the CPU, how many intra-op threads (Debian's LibTorch starts with
// one whatever the machine has, so the count is always set, never
// inherited), which dtype autocast uses, and how freed memory is kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

#include "loom/config/config.hpp"
#include "loom/hardware/cpu_features.hpp"
#include "loom/hardware/cuda_capability.hpp"

namespace loom::train {

// The CPUs this process may run on (its affinity mask), and all online CPUs.
std::int64_t usable_cpu_count();

// run.threads, or when it is 0: the usable CPUs, divided among the ranks on
// this node when the process is not pinned (a launcher that pins each rank
// to its cores has already divided them). Sets LibTorch's intra-op threads
// and returns the count.
std::int64_t configure_cpu_threads(std::int64_t requested, int local_ranks);

// A precision chosen for a device, and why (for the run log).
struct PrecisionChoice {
  config::Precision precision = config::Precision::fp32;  // never automatic
  std::string reason;  // "auto: this CPU multiplies bf16 natively (AVX512-BF16)"
};

// What decides train.precision: auto for a device.
struct PrecisionFacts {
  bool cuda = false;
  hardware::CpuFeatures cpu;                              // for a CPU device
  std::optional<hardware::ComputeCapability> capability;  // for a CUDA device
};

// auto becomes bf16 where matrix products run natively in bf16 (CPUs with
// AVX512-BF16 or AMX, CUDA GPUs of compute capability 8.0 and up) and fp32
// elsewhere; an explicit precision is kept as it is.
PrecisionChoice choose_precision(config::Precision requested, const PrecisionFacts& facts);

// The same for `device` in this process.
PrecisionChoice choose_precision(config::Precision requested, const torch::Device& device);

// The dtype autocast runs eligible ops in: bf16 on CPU and CUDA, fp16 on
// CUDA; none for fp32. fp16 on the CPU is a UsageError naming
// train.precision (LibTorch's CPU autocast has bf16 only). `precision` is a
// chosen one, not automatic.
std::optional<at::ScalarType> autocast_dtype_for(config::Precision precision,
                                                 const torch::Device& device);

// Glibc's malloc returns big freed blocks to the system at once, so every
// training step maps and faults in its activations afresh (thousands of
// page faults per step on a small model). Raising the mmap and trim
// thresholds keeps those blocks in the heap for reuse; called once at
// the start of training.
void keep_freed_memory_for_reuse();

}  // namespace loom::train
