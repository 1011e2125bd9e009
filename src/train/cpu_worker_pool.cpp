#include "loom/train/cpu_worker_pool.hpp"

#include <ATen/Parallel.h>

#include "loom/core/error.hpp"

namespace loom::train {
namespace {

// One intra-op thread for the calling thread. The lazy init must come
// first: a thread's first parallel op would otherwise reset its count from
// the process-wide default.
void use_one_intra_op_thread() {
  at::internal::lazy_init_num_threads();
  at::set_num_threads(1);
}

}  // namespace

CpuWorkerPool::CpuWorkerPool(int workers) : errors_(static_cast<std::size_t>(workers)) {
  if (workers < 1) throw UsageError("CpuWorkerPool: workers must be at least 1");
  use_one_intra_op_thread();
  for (int worker = 1; worker < workers; ++worker)
    threads_.emplace_back([this, worker] { serve(worker); });
}

CpuWorkerPool::~CpuWorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_)
    thread.join();
}

void CpuWorkerPool::run(int count, const std::function<void(int)>& job) {
  if (count < 1 || count > size()) throw Error("CpuWorkerPool::run: count outside [1, size()]");
  std::fill(errors_.begin(), errors_.end(), nullptr);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    count_ = count;
    pending_ = count - 1;
    ++generation_;
  }
  if (count > 1) wake_.notify_all();
  try {
    job(0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }
  for (const std::exception_ptr& error : errors_)
    if (error) std::rethrow_exception(error);
}

void CpuWorkerPool::serve(int worker) {
  use_one_intra_op_thread();
  long long seen = 0;
  while (true) {
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (worker >= count_) continue;  // not needed this round
      job = job_;
    }
    try {
      (*job)(worker);
    } catch (...) {
      errors_[static_cast<std::size_t>(worker)] = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --pending_;
    }
    done_.notify_one();
  }
}

}  // namespace loom::train
