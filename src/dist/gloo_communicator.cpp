// The backend for ranks started without mpirun: each process knows its rank,
// the world size and where rank 0 listens (MASTER_ADDR, MASTER_PORT), meets
// the others through LibTorch's TCPStore (rank 0 serves it), and reduces CPU
// tensors with LibTorch's Gloo process group. Common on clusters where srun
// has no PMIx for MPI, and for processes a script starts by hand.
#define USE_C10D_GLOO 1  // LibTorch's Gloo header is written for its own build

#include <cstdlib>

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/dist/communicator.hpp"

namespace loom::dist {
namespace {

class WorkOperation final : public PendingOperation {
 public:
  WorkOperation(c10::intrusive_ptr<c10d::Work> work, torch::Tensor buffer, double divisor)
      : work_(std::move(work)), buffer_(std::move(buffer)), divisor_(divisor) {}
  void wait() override {
    if (!work_) return;
    work_->wait();
    work_.reset();
    if (divisor_ != 1.0) buffer_.div_(divisor_);
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  torch::Tensor buffer_;
  double divisor_;
};

class GlooCommunicator final : public Communicator {
 public:
  GlooCommunicator(const StoreAddress& address, int rank, int size, std::string interface)
      : rank_(rank), size_(size) {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(address.port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(size);
    store_options.timeout = std::chrono::seconds(address.timeout_seconds);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = std::chrono::seconds(address.timeout_seconds);
    if (interface.empty()) {
      const char* from_environment = std::getenv("GLOO_SOCKET_IFNAME");
      if (from_environment != nullptr) interface = from_environment;
    }
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(address.host, store_options);
      options->devices.push_back(!interface.empty()
                                     ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
      group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank, size, options);
    } catch (const std::exception& e) {
      throw Error(fmt::format(
          "rank {} of {} could not meet the others at {}:{} (MASTER_ADDR:MASTER_PORT, served by "
          "rank 0) within {} s: {}",
          rank, size, address.host, address.port, address.timeout_seconds, e.what()));
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "gloo"; }

  std::unique_ptr<PendingOperation> all_reduce_async(torch::Tensor buffer, ReduceOp op) override {
    std::vector<torch::Tensor> tensors{buffer};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    return std::make_unique<WorkOperation>(group_->allreduce(tensors, options), buffer,
                                           op == ReduceOp::average ? size_ : 1.0);
  }

  void broadcast(torch::Tensor buffer, int root) override {
    std::vector<torch::Tensor> tensors{std::move(buffer)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(tensors, options)->wait();
  }

  void barrier() override { group_->barrier()->wait(); }

 private:
  int rank_;
  int size_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

}  // namespace

std::unique_ptr<Communicator> make_gloo_communicator(const StoreAddress& address, int rank,
                                                     int size, const std::string& interface) {
  return std::make_unique<GlooCommunicator>(address, rank, size, interface);
}

StoreAddress store_address_from_environment() {
  const char* host = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    throw UsageError(
        "ranks started without mpirun meet through rank 0's address: set MASTER_ADDR (rank 0's "
        "host) and MASTER_PORT (a free TCP port) in every rank's environment");
  }
  StoreAddress address;
  address.host = host;
  char* end = nullptr;
  const long value = std::strtol(port, &end, 10);
  if (*end != '\0' || value < 1 || value > 65535)
    throw UsageError(fmt::format("MASTER_PORT='{}' is not a TCP port (1-65535)", port));
  address.port = static_cast<int>(value);
  return address;
}

}  // namespace loom::dist
