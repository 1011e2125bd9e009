// BatchSampler's sample ids: the step/rank/micro-step layout, its
// independence of how the global batch is divided (docs/ARCHITECTURE.md, invariant 1),
// resuming, epochs, evaluation batches and constructor errors.
#include "loom/data/sampler.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "sampler_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

using config::WindowMode;

// Documents of lengths 1, 9, 3, 17, 2, 6 (some padded, one skipped) so the
// equivalence tests also cover document windows.
const std::vector<std::uint64_t> kDocStarts = {0, 1, 10, 13, 30, 32};

// Every micro-batch of step `step` on every rank, in rank-major order: the
// rows the whole world trains on in that step.
Batch global_batch(const SplitView& split, const SamplerOptions& base, std::int64_t step) {
  std::vector<Batch> parts;
  for (int rank = 0; rank < base.world_size; ++rank) {
    SamplerOptions options = base;
    options.rank = rank;
    const BatchSampler sampler(split, options);
    for (std::int64_t micro = 0; micro < sampler.accumulation_steps(); ++micro)
      parts.push_back(sampler.batch(step, micro));
  }
  return concatenate(parts);
}

TEST(BatchSampler, SampleIdsFollowStepRankAndMicroStep) {
  const std::vector<std::uint32_t> tokens = counting_tokens(100);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(4, 8, 2, 2, 1));
  EXPECT_EQ(sampler.accumulation_steps(), 2);
  EXPECT_EQ(sampler.num_windows(), 96u);
  // Step 3 is ids [24, 32); rank 1 takes [28, 32); its micro-step 1 is [30, 32).
  EXPECT_EQ(sampler.sample_ids(3, 1), (std::vector<std::uint64_t>{30, 31}));
  EXPECT_EQ(sampler.sample_ids(0, 0), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(sampler.batch(3, 1).sample_ids, (std::vector<std::uint64_t>{30, 31}));
}

TEST(BatchSampler, RanksAndAccumulationDivideTheSameGlobalBatch) {
  const std::vector<std::uint32_t> tokens = counting_tokens(38);
  for (const WindowMode mode : {WindowMode::packed, WindowMode::document}) {
    const SplitView split = view_of(tokens, kDocStarts);
    for (std::int64_t step = 0; step < 12; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      // G = 8: 1 rank x 2 micro-steps == 2 ranks x 1 micro-step.
      expect_same_batch(global_batch(split, sampler_options(5, 8, 4, 1, 0, mode), step),
                        global_batch(split, sampler_options(5, 8, 4, 2, 0, mode), step));
      // 2 ranks x 2 micro-steps == 1 rank x 4 == 4 ranks x 1.
      const Batch two_by_two = global_batch(split, sampler_options(5, 8, 2, 2, 0, mode), step);
      expect_same_batch(two_by_two,
                        global_batch(split, sampler_options(5, 8, 2, 1, 0, mode), step));
      expect_same_batch(two_by_two,
                        global_batch(split, sampler_options(5, 8, 2, 4, 0, mode), step));
      std::vector<std::uint64_t> expected_ids(8);
      std::iota(expected_ids.begin(), expected_ids.end(), static_cast<std::uint64_t>(step) * 8);
      EXPECT_EQ(two_by_two.sample_ids, expected_ids);
    }
  }
}

TEST(BatchSampler, ResumedSamplerContinuesTheSameSequence) {
  const std::vector<std::uint32_t> tokens = counting_tokens(50);
  const SamplerOptions options = sampler_options(6, 6, 3);
  const BatchSampler original(view_of(tokens, {0}), options);
  std::vector<Batch> seen;
  for (std::int64_t step = 0; step < 20; ++step)
    for (std::int64_t micro = 0; micro < original.accumulation_steps(); ++micro)
      seen.push_back(original.batch(step, micro));

  const BatchSampler resumed(view_of(tokens, {0}), options);
  for (std::int64_t step = 13; step < 20; ++step)
    for (std::int64_t micro = 0; micro < resumed.accumulation_steps(); ++micro)
      expect_same_batch(resumed.batch(step, micro),
                        seen[static_cast<std::size_t>(step * 2 + micro)]);
}

// Window starts of the first `count` samples, read back from the tokens
// (packed windows over counting tokens begin with their own number).
std::vector<std::uint64_t> windows_in_order(const BatchSampler& sampler, std::uint64_t count) {
  std::vector<std::uint64_t> windows;
  for (std::int64_t step = 0; windows.size() < count; ++step) {
    for (std::int64_t micro = 0; micro < sampler.accumulation_steps(); ++micro) {
      const Batch batch = sampler.batch(step, micro);
      for (std::int64_t row = 0; row < batch.rows; ++row) {
        windows.push_back(static_cast<std::uint64_t>(batch.inputs[row * batch.cols]));
        EXPECT_EQ(windows.back(), sampler.window_of(batch.sample_ids[row]));
      }
    }
  }
  windows.resize(count);
  return windows;
}

TEST(BatchSampler, EachEpochVisitsEveryWindowOnce) {
  // 35 tokens, block 4: W = 31 windows, not a multiple of G = 6, so steps
  // straddle epoch boundaries.
  const std::vector<std::uint32_t> tokens = counting_tokens(35);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(4, 6, 3));
  ASSERT_EQ(sampler.num_windows(), 31u);
  const std::vector<std::uint64_t> windows = windows_in_order(sampler, 3 * 31);
  std::vector<std::uint64_t> all(31);
  std::iota(all.begin(), all.end(), 0u);
  std::vector<std::vector<std::uint64_t>> epochs;
  for (int epoch = 0; epoch < 3; ++epoch) {
    epochs.emplace_back(windows.begin() + epoch * 31, windows.begin() + (epoch + 1) * 31);
    std::vector<std::uint64_t> sorted = epochs.back();
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all) << "epoch " << epoch;
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_NE(epochs[0], all);

  EXPECT_EQ(sampler.epoch_of_step(0), 0);
  EXPECT_EQ(sampler.epoch_of_step(5), 0);  // ids [30, 36): starts in epoch 0
  EXPECT_EQ(sampler.epoch_of_step(6), 1);  // ids [36, 42)
  EXPECT_EQ(sampler.epoch_of_step(11), 2);
}

TEST(BatchSampler, SeedChangesTheOrder) {
  const std::vector<std::uint32_t> tokens = counting_tokens(100);
  SamplerOptions options = sampler_options(4, 8, 8);
  const BatchSampler first(view_of(tokens, {0}), options);
  options.seed = 8;
  const BatchSampler second(view_of(tokens, {0}), options);
  EXPECT_NE(windows_in_order(first, 96), windows_in_order(second, 96));
}

TEST(BatchSampler, EvalBatchesAreFixedAndIndependentOfTraining) {
  const std::vector<std::uint32_t> tokens = counting_tokens(200);
  const SamplerOptions options = sampler_options(8, 8, 4);
  const BatchSampler first(view_of(tokens, {0}), options);
  const BatchSampler second(view_of(tokens, {0}), options);
  const Batch before = first.eval_batch(3);
  for (std::int64_t step = 0; step < 10; ++step)
    first.batch(step, 1);
  expect_same_batch(first.eval_batch(3), before);
  expect_same_batch(second.eval_batch(3), before);
  EXPECT_EQ(before.sample_ids, (std::vector<std::uint64_t>{12, 13, 14, 15}));
  // Not the training order of the same positions.
  EXPECT_NE(before.inputs, first.batch(1, 1).inputs);
}

TEST(BatchSampler, EvalBatchesSplitAcrossRanksAndWrap) {
  // 7 tokens, block 2: 5 windows; 2 ranks x 3 rows read positions 6k..6k+5.
  const std::vector<std::uint32_t> tokens = counting_tokens(7);
  const BatchSampler rank0(view_of(tokens, {0}), sampler_options(2, 6, 3, 2, 0));
  const BatchSampler rank1(view_of(tokens, {0}), sampler_options(2, 6, 3, 2, 1));
  std::vector<std::int64_t> window_at;  // by position
  for (std::int64_t index = 0; index < 5; ++index) {
    const Batch first = rank0.eval_batch(index);
    const Batch second = rank1.eval_batch(index);
    const auto base = static_cast<std::uint64_t>(index) * 6;
    EXPECT_EQ(first.sample_ids, (std::vector<std::uint64_t>{base, base + 1, base + 2}));
    EXPECT_EQ(second.sample_ids, (std::vector<std::uint64_t>{base + 3, base + 4, base + 5}));
    for (const Batch* batch : {&first, &second})
      for (std::int64_t row = 0; row < 3; ++row)
        window_at.push_back(batch->inputs[row * 2]);
  }
  std::vector<std::int64_t> first_five(window_at.begin(), window_at.begin() + 5);
  std::sort(first_five.begin(), first_five.end());
  EXPECT_EQ(first_five, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  for (std::size_t position = 5; position < window_at.size(); ++position)
    EXPECT_EQ(window_at[position], window_at[position % 5]) << "position " << position;
}

TEST(BatchSampler, CopiesAndThreadsShareOneAnswer) {
  const std::vector<std::uint32_t> tokens = counting_tokens(5000);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(16, 32, 8));
  std::vector<Batch> expected;
  for (std::int64_t step = 0; step < 40; ++step)
    expected.push_back(sampler.batch(step, step % 4));

  std::vector<std::vector<Batch>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([copy = sampler, &result] {
      for (std::int64_t step = 0; step < 40; ++step)
        result.push_back(copy.batch(step, step % 4));
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (const auto& result : results)
    for (std::size_t i = 0; i < expected.size(); ++i)
      expect_same_batch(result[i], expected[i]);
}

std::string construction_error(const std::vector<std::uint32_t>& tokens,
                               const std::vector<std::uint64_t>& doc_starts,
                               const SamplerOptions& options) {
  try {
    BatchSampler(view_of(tokens, doc_starts), options);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "no error";
}

TEST(BatchSampler, ConstructorErrorsGiveTheNumbers) {
  const std::vector<std::uint32_t> tokens = counting_tokens(20);
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(4, 10, 3, 2)),
            "train.batch_size (10) must be a multiple of micro_batch (3) x ranks (2)");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(4, 8, 4, 4)),
            "train.batch_size (8) must be a multiple of micro_batch (4) x ranks (4)");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(0, 8, 4)),
            "model.block_size must be at least 1 (got 0)");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(4, 8, 0)),
            "train.micro_batch must be at least 1 (got 0)");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(4, 8, 4, 2, 2)),
            "rank 2 is outside [0, 2)");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(20, 8, 4)),
            "the split has 20 tokens; a window needs block_size + 1 = 21");
  EXPECT_EQ(construction_error(tokens, {0}, sampler_options(19, 8, 4)), "no error");
  EXPECT_EQ(construction_error({}, {}, sampler_options(1, 1, 1)),
            "the split has 0 tokens; a window needs block_size + 1 = 2");
  EXPECT_EQ(construction_error(counting_tokens(3), {0, 1, 2},
                               sampler_options(4, 8, 4, 1, 0, WindowMode::document)),
            "the split has 3 tokens in 3 documents and none has the 2 tokens a window needs");
}

TEST(BatchSampler, RejectsDocumentsOutOfOrder) {
  const std::vector<std::uint32_t> tokens = counting_tokens(10);
  try {
    BatchSampler(view_of(tokens, {0, 6, 4}), sampler_options(3, 4, 4, 1, 0, WindowMode::document));
    FAIL() << "descending document starts were accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "document 1 spans tokens [6, 4): document starts must ascend and stay within "
                 "the split's 10 tokens");
  }
}

TEST(BatchSampler, RejectsPositionsOutsideTheSchedule) {
  const std::vector<std::uint32_t> tokens = counting_tokens(20);
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(4, 4, 2));
  const auto message = [&](std::int64_t step, std::int64_t micro) -> std::string {
    try {
      sampler.sample_ids(step, micro);
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_EQ(message(0, 2), "micro-step 2 is outside [0, 2)");
  EXPECT_EQ(message(0, -1), "micro-step -1 is outside [0, 2)");
  EXPECT_EQ(message(-1, 0),
            "step -1 is outside [0, 4611686018427387903): its sample ids would not fit in 64 bits");
  EXPECT_EQ(message(4611686018427387902, 1), "no error");
  EXPECT_EQ(message(4611686018427387903, 0),
            "step 4611686018427387903 is outside [0, 4611686018427387903): its sample ids would "
            "not fit in 64 bits");
}

}  // namespace
}  // namespace loom::data
