#include "loom/core/thread_pool.hpp"

#include <atomic>
#include <stdexcept>

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(ThreadPool, ResultsComeBackThroughFuturesInSubmissionOrder) {
  ThreadPool pool(3);
  std::deque<std::future<int>> results;
  for (int i = 0; i < 100; ++i)
    results.push_back(pool.submit([i] { return i * i; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(results.front().get(), i * i);
    results.pop_front();
  }
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  ThreadPool pool(2);
  auto failing = pool.submit([]() -> int { throw std::runtime_error("bad chunk"); });
  EXPECT_THROW(
      {
        try {
          failing.get();
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "bad chunk");
          throw;
        }
      },
      std::runtime_error);
}

TEST(ThreadPool, DestructionFinishesQueuedJobs) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 50; ++i)
      pool.submit([&done] { ++done; });
  }
  EXPECT_EQ(done.load(), 50);
}

TEST(ThreadPool, AtLeastOneWorker) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  EXPECT_EQ(pool.submit([] { return 7; }).get(), 7);
}

}  // namespace
}  // namespace loom
