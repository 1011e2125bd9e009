// Threads that train (or evaluate) slices of one batch at once on the CPU.
//
// Why not LibTorch's own threading: a small model's operations are too
// short for an OpenMP team to pay off (threads wait at a barrier after
// every op), while two forward/backward passes over half a batch each keep
// both cores busy from start to end. Measured on the 2-core VM for a 4-layer,
// 128-wide GPT (bench/step_bench.cpp): ~40 ms per step this way against
// ~65 ms with two OpenMP threads per op.
//
// Every thread, the caller's included, runs LibTorch with one intra-op
// thread: an OpenMP team left anywhere spins on a core the workers need.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace loom::train {

class CpuWorkerPool {
 public:
  // `workers` >= 1 jobs run at once: the calling thread is worker 0, and
  // workers - 1 threads are started here and live as long as the pool. Sets
  // the caller's LibTorch intra-op threads to 1.
  explicit CpuWorkerPool(int workers);
  ~CpuWorkerPool();
  CpuWorkerPool(const CpuWorkerPool&) = delete;
  CpuWorkerPool& operator=(const CpuWorkerPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  // Calls job(w) for every w in [0, count) (count <= size()), each on its
  // own thread, and returns when all have returned. The first exception, by
  // worker index, is rethrown here after all have finished.
  void run(int count, const std::function<void(int worker)>& job);

 private:
  void serve(int worker);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* job_ = nullptr;
  int count_ = 0;
  long long generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::vector<std::exception_ptr> errors_;
};

}  // namespace loom::train
