// NCCL for CUDA buffers, written against nccl.h and the CUDA runtime only:
// device pointers and cudaStream_t in, no LibTorch. The LibTorch glue that
// hands it a tensor's pointer and the current stream sits apart, so this
// part builds (and is linked in CI) wherever /usr/local/cuda has NCCL, even
// beside a CPU-only LibTorch and on machines with no GPU.
//
// Ordering: reductions run on the communicator's own stream. Each one first
// waits (through an event) for the work already queued on the producer
// stream that wrote the gradients; wait_on() makes a consumer stream (the
// optimizer's) wait for every reduction queued so far. Nothing blocks the
// host but synchronize().
#pragma once

#include <array>
#include <cstddef>

#include <cuda_runtime_api.h>
#include <nccl.h>

namespace loom::dist::nccl {

// The bytes rank 0 makes and every rank must receive (over MPI or the TCP
// store) before building its communicator.
using UniqueId = std::array<char, NCCL_UNIQUE_ID_BYTES>;

UniqueId new_unique_id();

enum class DataType { f32, bf16, f16, f64 };

class NcclCommunicator {
 public:
  // Selects `device` and joins the communicator of `size` ranks. Throws
  // loom::Error with NCCL's or CUDA's message on failure (no device, ...).
  NcclCommunicator(const UniqueId& id, int rank, int size, int device);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  // In-place sum (or average) of `count` elements at device pointer `data`,
  // after the work queued on `producer` so far.
  void all_reduce(void* data, std::size_t count, DataType type, bool average,
                  cudaStream_t producer);
  void broadcast(void* data, std::size_t count, DataType type, int root, cudaStream_t producer);
  // `consumer` waits for every operation queued so far.
  void wait_on(cudaStream_t consumer);
  // The host waits for every operation queued so far.
  void synchronize();
  // The stream the operations run on, for a caller that must tell its
  // allocator which stream still uses a buffer.
  cudaStream_t stream() const { return stream_; }

  // NCCL's version as a number (22809 for 2.28.9); needs no GPU.
  static int library_version();

 private:
  void after(cudaStream_t producer);

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;  // recorded on a producer, waited on by stream_
  cudaEvent_t done_ = nullptr;   // recorded on stream_, waited on by consumers
  int device_ = 0;
};

}  // namespace loom::dist::nccl
