// The NCCL backend for CUDA tensors, behind the same Communicator the
// trainer already talks to. Built only where LibTorch has CUDA and NCCL is
// found (LOOM_WITH_NCCL in loom/core/build_info.hpp, library
// loom_nccl_torch): code that calls it checks that macro first.
//
// CUDA tensors go over NCCL on its own stream, in CUDA's stream order
// rather than the host's: an operation starts after the work already
// queued on the calling thread's current stream, and waiting on it (or a
// broadcast's return) makes the current stream wait for its result, never
// the host. CPU tensors (the flags and sums of any(), sum(), all_gather())
// go over the CPU communicator the ranks bootstrapped with.
#pragma once

#include <memory>

#include "loom/dist/communicator.hpp"

namespace loom::dist {

// Joins every rank of `host` in an NCCL communicator on CUDA device
// `device` (a collective: every rank calls it). Rank 0's unique id travels
// over `host`, which the result then owns and uses for CPU tensors and
// barrier(). Buffers: contiguous float32, bfloat16, float16 or float64 on
// that device. Throws loom::Error with NCCL's or CUDA's message when the
// ranks cannot join.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device);

}  // namespace loom::dist
