// The MPI backend. One thread owns MPI: it initialises it, runs every
// operation in the order they were posted, and finalises it. The trainer's
// threads only post operations and wait on their futures, so a bucket's
// all-reduce runs while backward is still computing the next bucket's
// gradients, without needing MPI_THREAD_MULTIPLE or a progress engine.
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <mpi.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/dist/communicator.hpp"

namespace loom::dist {
namespace {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(
      fmt::format("MPI {} failed: {}", what, std::string(text, static_cast<std::size_t>(length))));
}

MPI_Datatype mpi_type_of(const torch::Tensor& buffer) {
  if (buffer.scalar_type() == torch::kFloat32) return MPI_FLOAT;
  if (buffer.scalar_type() == torch::kFloat64) return MPI_DOUBLE;
  throw Error(fmt::format("MPI communicator: buffers must be float32 or float64, got {}",
                          c10::toString(buffer.scalar_type())));
}

void check_buffer(const torch::Tensor& buffer) {
  if (!buffer.device().is_cpu() || !buffer.is_contiguous()) {
    throw Error("MPI communicator: buffers must be contiguous CPU tensors (use NCCL for CUDA)");
  }
}

class FutureOperation final : public PendingOperation {
 public:
  explicit FutureOperation(std::future<void> done) : done_(std::move(done)) {}
  void wait() override {
    if (done_.valid()) done_.get();
  }

 private:
  std::future<void> done_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() : thread_([this] { serve(); }) {
    // The rank and size are known once the thread has initialised MPI.
    post([this] {
      int initialized = 0;
      MPI_Initialized(&initialized);
      if (initialized == 0) {
        int provided = 0;
        check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
                  "MPI_Init_thread");
      }
      check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
      check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    })->wait();
  }

  ~MpiCommunicator() override {
    post([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (finalized == 0) MPI_Finalize();
    });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  std::unique_ptr<PendingOperation> all_reduce_async(torch::Tensor buffer, ReduceOp op) override {
    check_buffer(buffer);
    const MPI_Datatype type = mpi_type_of(buffer);
    return post([this, buffer, op, type] {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, buffer.data_ptr(), static_cast<int>(buffer.numel()),
                              type, MPI_SUM, MPI_COMM_WORLD),
                "MPI_Allreduce");
      if (op == ReduceOp::average) buffer.div_(static_cast<double>(size_));
    });
  }

  void broadcast(torch::Tensor buffer, int root) override {
    check_buffer(buffer);
    const MPI_Datatype type = mpi_type_of(buffer);
    post([buffer, root, type] {
      check_mpi(MPI_Bcast(buffer.data_ptr(), static_cast<int>(buffer.numel()), type, root,
                          MPI_COMM_WORLD),
                "MPI_Bcast");
    })->wait();
  }

  void barrier() override {
    post([] { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); })->wait();
  }

 private:
  std::unique_ptr<PendingOperation> post(std::function<void()> operation) {
    std::packaged_task<void()> task(std::move(operation));
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return std::make_unique<FutureOperation>(std::move(done));
  }

  void serve() {
    // A reduction's buffer division runs here: one intra-op thread, like
    // every other thread of a rank.
    while (true) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to run
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  int rank_ = 0;
  int size_ = 1;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

}  // namespace loom::dist
