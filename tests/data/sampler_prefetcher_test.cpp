// BatchPrefetcher: the same batches as direct calls, in order across the
// accumulation wrap, a prompt shutdown with a full queue, and the sampler's
// errors delivered by next().
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sampler_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/data/sampler.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

TEST(BatchPrefetcher, YieldsTheDirectSequenceAtEveryDepth) {
  const std::vector<std::uint32_t> tokens = counting_tokens(300);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(8, 12, 4));  // 3 micro-steps
  for (const std::int64_t depth : {0, 1, 2, 5}) {
    SCOPED_TRACE("depth " + std::to_string(depth));
    BatchPrefetcher prefetcher(sampler, 5, depth);
    for (std::int64_t step = 5; step < 12; ++step)
      for (std::int64_t micro = 0; micro < 3; ++micro)
        expect_same_batch(prefetcher.next(), sampler.batch(step, micro));
  }
}

TEST(BatchPrefetcher, StopsPromptlyWithAFullQueue) {
  // Owned by the thread that ends the prefetcher, which outlives the test if
  // stopping deadlocks.
  const auto tokens = std::make_shared<const std::vector<std::uint32_t>>(counting_tokens(1000));
  const BatchSampler sampler(view_of(*tokens, {0}), sampler_options(16, 8, 2));
  auto prefetcher = std::make_shared<std::unique_ptr<BatchPrefetcher>>(
      std::make_unique<BatchPrefetcher>(sampler, 0, 3));
  expect_same_batch((*prefetcher)->next(), sampler.batch(0, 0));
  // The producer refills the queue and then blocks on it.
  ASSERT_TRUE(poll_until([&] { return (*prefetcher)->queued() == 3; }, std::chrono::seconds(30)))
      << "the producer did not fill the queue; " << (*prefetcher)->queued() << " queued";
  EXPECT_TRUE(finishes_within(std::chrono::seconds(5), [prefetcher, tokens] {
    prefetcher->reset();
  })) << "ending a prefetcher whose producer waits on a full queue did not return in 5 s";
}

TEST(BatchPrefetcher, RethrowsTheSamplersErrorAfterTheGoodBatches) {
  // G = 4: step 2^62 - 2 is the last whose ids fit in 64 bits.
  const std::vector<std::uint32_t> tokens = counting_tokens(20);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(4, 4, 2));
  const std::int64_t last_step = 4611686018427387902;
  for (const std::int64_t depth : {0, 2}) {
    SCOPED_TRACE("depth " + std::to_string(depth));
    BatchPrefetcher prefetcher(sampler, last_step, depth);
    expect_same_batch(prefetcher.next(), sampler.batch(last_step, 0));
    expect_same_batch(prefetcher.next(), sampler.batch(last_step, 1));
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        prefetcher.next();
        ADD_FAILURE() << "no error past the last step";
      } catch (const Error& error) {
        EXPECT_STREQ(error.what(),
                     "step 4611686018427387903 is outside [0, 4611686018427387903): its sample "
                     "ids would not fit in 64 bits");
      }
    }
  }
}

TEST(BatchPrefetcher, RejectsANegativeDepthOrStart) {
  const std::vector<std::uint32_t> tokens = counting_tokens(20);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(4, 4, 2));
  try {
    BatchPrefetcher(sampler, 0, -1);
    FAIL() << "depth -1 was accepted";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "data.prefetch must be at least 0 (got -1)");
  }
  try {
    BatchPrefetcher(sampler, -3, 2);
    FAIL() << "step -3 was accepted";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "the first step to prefetch must be at least 0 (got -3)");
  }
}

}  // namespace
}  // namespace loom::data
