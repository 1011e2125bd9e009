// The NCCL communicator (nccl_comm.hpp) over NCCL's and CUDA's C APIs:
// every call's status is checked and a failure becomes a loom::Error that
// carries the library's own message.
#include "nccl_comm.hpp"

#include <cstring>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::dist::nccl {
namespace {

void check_cuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess)
    throw Error(fmt::format("CUDA {} failed: {}", what, cudaGetErrorString(code)));
}

void check_nccl(ncclResult_t code, const char* what) {
  if (code != ncclSuccess)
    throw Error(fmt::format("NCCL {} failed: {}", what, ncclGetErrorString(code)));
}

ncclDataType_t nccl_type(DataType type) {
  switch (type) {
    case DataType::f32:
      return ncclFloat32;
    case DataType::bf16:
      return ncclBfloat16;
    case DataType::f16:
      return ncclFloat16;
    case DataType::f64:
      return ncclFloat64;
  }
  return ncclFloat32;
}

}  // namespace

UniqueId new_unique_id() {
  ncclUniqueId id;
  check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  UniqueId bytes;
  std::memcpy(bytes.data(), id.internal, bytes.size());
  return bytes;
}

NcclCommunicator::NcclCommunicator(const UniqueId& id, int rank, int size, int device)
    : device_(device) {
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
  ncclUniqueId nccl_id;
  std::memcpy(nccl_id.internal, id.data(), id.size());
  check_nccl(ncclCommInitRank(&comm_, size, nccl_id, rank), "ncclCommInitRank");
  check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check_cuda(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreate");
  check_cuda(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "cudaEventCreate");
}

NcclCommunicator::~NcclCommunicator() {
  // Best effort: a destructor must not throw, and a failing device is
  // already reported by the operation that met it.
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (comm_ != nullptr) ncclCommDestroy(comm_);
  if (ready_ != nullptr) cudaEventDestroy(ready_);
  if (done_ != nullptr) cudaEventDestroy(done_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void NcclCommunicator::after(cudaStream_t producer) {
  check_cuda(cudaEventRecord(ready_, producer), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(stream_, ready_, 0), "cudaStreamWaitEvent");
}

void NcclCommunicator::all_reduce(void* data, std::size_t count, DataType type, bool average,
                                  cudaStream_t producer) {
  after(producer);
  check_nccl(ncclAllReduce(data, data, count, nccl_type(type), average ? ncclAvg : ncclSum, comm_,
                           stream_),
             "ncclAllReduce");
}

void NcclCommunicator::broadcast(void* data, std::size_t count, DataType type, int root,
                                 cudaStream_t producer) {
  after(producer);
  check_nccl(ncclBroadcast(data, data, count, nccl_type(type), root, comm_, stream_),
             "ncclBroadcast");
}

void NcclCommunicator::wait_on(cudaStream_t consumer) {
  check_cuda(cudaEventRecord(done_, stream_), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(consumer, done_, 0), "cudaStreamWaitEvent");
}

void NcclCommunicator::synchronize() {
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

int NcclCommunicator::library_version() {
  int version = 0;
  check_nccl(ncclGetVersion(&version), "ncclGetVersion");
  return version;
}

}  // namespace loom::dist::nccl
