// The LibTorch-CUDA side of the NCCL backend (loom/dist/nccl_communicator.hpp):
// a tensor becomes a device pointer, an NCCL data type and ATen's current
// stream for NcclCommunicator, which knows nothing of LibTorch. CPU tensors
// are passed on to the communicator the ranks bootstrapped with.
#include <functional>
#include <mutex>

#include "nccl_comm.hpp"
#include "unique_id_exchange.hpp"
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/dist/nccl_communicator.hpp"

namespace loom::dist {
namespace {

nccl::DataType nccl_type_of(const torch::Tensor& buffer) {
  switch (buffer.scalar_type()) {
    case torch::kFloat32:
      return nccl::DataType::f32;
    case torch::kBFloat16:
      return nccl::DataType::bf16;
    case torch::kFloat16:
      return nccl::DataType::f16;
    case torch::kFloat64:
      return nccl::DataType::f64;
    default:
      break;
  }
  throw Error(fmt::format(
      "NCCL communicator: buffers must be float32, bfloat16, float16 or float64, got {}",
      c10::toString(buffer.scalar_type())));
}

// Waiting orders the waiting thread's current stream after the operation;
// the host goes on at once.
class StreamOrderedOperation final : public PendingOperation {
 public:
  explicit StreamOrderedOperation(std::function<void()> order_current_stream)
      : order_current_stream_(std::move(order_current_stream)) {}
  void wait() override { order_current_stream_(); }

 private:
  std::function<void()> order_current_stream_;
};

class TorchNcclCommunicator final : public Communicator {
 public:
  TorchNcclCommunicator(std::unique_ptr<Communicator> host, int device)
      : host_(std::move(host)),
        device_(static_cast<c10::DeviceIndex>(device)),
        nccl_(nccl::share_unique_id(*host_), host_->rank(), host_->size(), device) {}

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  std::string backend() const override { return "nccl"; }

  std::unique_ptr<PendingOperation> all_reduce_async(torch::Tensor buffer, ReduceOp op) override {
    if (buffer.device().is_cpu()) return host_->all_reduce_async(std::move(buffer), op);
    const nccl::DataType type = checked_type(buffer);
    std::lock_guard<std::mutex> lock(mutex_);
    const c10::cuda::CUDAGuard on_device(device_);
    nccl_.all_reduce(buffer.data_ptr(), static_cast<std::size_t>(buffer.numel()), type,
                     op == ReduceOp::average, current_stream());
    keep_until_done(buffer);
    return std::make_unique<StreamOrderedOperation>([this] {
      std::lock_guard<std::mutex> wait_lock(mutex_);
      const c10::cuda::CUDAGuard wait_on_device(device_);
      nccl_.wait_on(current_stream());
    });
  }

  void broadcast(torch::Tensor buffer, int root) override {
    if (buffer.device().is_cpu()) {
      host_->broadcast(std::move(buffer), root);
      return;
    }
    const nccl::DataType type = checked_type(buffer);
    std::lock_guard<std::mutex> lock(mutex_);
    const c10::cuda::CUDAGuard on_device(device_);
    const cudaStream_t stream = current_stream();
    nccl_.broadcast(buffer.data_ptr(), static_cast<std::size_t>(buffer.numel()), type, root,
                    stream);
    keep_until_done(buffer);
    nccl_.wait_on(stream);
  }

  // A barrier is about the hosts: every rank has reached this call.
  void barrier() override { host_->barrier(); }

 private:
  nccl::DataType checked_type(const torch::Tensor& buffer) const {
    if (!buffer.is_cuda() || buffer.get_device() != device_ || !buffer.is_contiguous()) {
      throw Error(fmt::format(
          "NCCL communicator: buffers must be contiguous tensors on cuda:{} (or on the CPU), "
          "got a {} tensor on {}",
          device_, buffer.is_contiguous() ? "contiguous" : "non-contiguous",
          buffer.device().str()));
    }
    return nccl_type_of(buffer);
  }

  cudaStream_t current_stream() const { return at::cuda::getCurrentCUDAStream(device_).stream(); }

  // The caching allocator must not hand the buffer's memory to new work
  // while NCCL's stream may still use it, even if the caller lets go of the
  // tensor without waiting.
  void keep_until_done(const torch::Tensor& buffer) {
    c10::cuda::CUDACachingAllocator::recordStream(
        buffer.storage().data_ptr(), c10::cuda::getStreamFromExternal(nccl_.stream(), device_));
  }

  std::unique_ptr<Communicator> host_;
  c10::DeviceIndex device_;
  nccl::NcclCommunicator nccl_;
  // GradientSync's hooks post reductions from autograd's device thread while
  // the main thread waits or broadcasts; NCCL calls on one communicator,
  // and the events NcclCommunicator reuses, take one thread at a time.
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device) {
  if (!host) throw Error("make_nccl_communicator: no CPU communicator to bootstrap NCCL over");
  return std::make_unique<TorchNcclCommunicator>(std::move(host), device);
}

}  // namespace loom::dist
