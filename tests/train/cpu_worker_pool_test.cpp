// The worker pool the trainer splits batches over: every job runs once, on
// distinct threads at once, with one LibTorch intra-op thread each, and an
// exception comes back to the caller after all jobs have ended.
#include "loom/train/cpu_worker_pool.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace loom::train {
namespace {

TEST(CpuWorkerPool, RunsEachJobOnceOnItsOwnThreadWithOneIntraOpThread) {
  CpuWorkerPool pool(3);
  EXPECT_EQ(pool.size(), 3);
  for (int round = 0; round < 50; ++round) {
    std::mutex mutex;
    std::set<int> workers;
    std::set<std::thread::id> threads;
    std::atomic<int> intra_op_threads{0};
    pool.run(3, [&](int worker) {
      intra_op_threads += at::get_num_threads();
      std::lock_guard<std::mutex> lock(mutex);
      workers.insert(worker);
      threads.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(workers, (std::set<int>{0, 1, 2}));
    EXPECT_EQ(threads.size(), 3U);
    EXPECT_EQ(intra_op_threads.load(), 3);
  }
  // Fewer jobs than workers: only those run, worker 0 on the caller's thread.
  std::set<int> workers;
  std::thread::id first;
  pool.run(1, [&](int worker) {
    workers.insert(worker);
    first = std::this_thread::get_id();
  });
  EXPECT_EQ(workers, std::set<int>{0});
  EXPECT_EQ(first, std::this_thread::get_id());
}

TEST(CpuWorkerPool, RethrowsTheFirstFailureAfterAllJobsEnd) {
  CpuWorkerPool pool(2);
  std::atomic<int> finished{0};
  try {
    pool.run(2, [&](int worker) {
      if (worker == 1) throw std::runtime_error("worker 1 failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++finished;
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "worker 1 failed");
  }
  EXPECT_EQ(finished.load(), 1);
  // The pool still works after a failure.
  std::atomic<int> ran{0};
  pool.run(2, [&](int) { ++ran; });
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace loom::train
