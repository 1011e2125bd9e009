// LearningRateSchedule at its edges: the first warmup step, the end of
// warmup, the middle and end of the decay, past the end, no warmup, a decay
// of length zero, the constant schedule, and lr_decay_iters = 0 meaning
// train.max_iters.
#include "loom/train/lr_schedule.hpp"

#include <gtest/gtest.h>

namespace loom::train {
namespace {

config::OptimConfig optim(double lr, double min_lr, std::int64_t warmup, std::int64_t decay,
                          config::LrSchedule kind = config::LrSchedule::cosine) {
  config::OptimConfig optim;
  optim.lr = lr;
  optim.min_lr = min_lr;
  optim.warmup_iters = warmup;
  optim.lr_decay_iters = decay;
  optim.schedule = kind;
  return optim;
}

TEST(LearningRateSchedule, WarmupRisesLinearlyFromTheFirstStep) {
  const LearningRateSchedule schedule(optim(1.0, 0.25, 3, 11), 1000);
  EXPECT_EQ(schedule.at(0), 0.25);  // lr * 1 / 4: the first step already moves
  EXPECT_EQ(schedule.at(1), 0.5);
  EXPECT_EQ(schedule.at(2), 0.75);
  EXPECT_EQ(schedule.at(3), 1.0);  // warmup ends at the peak
}

TEST(LearningRateSchedule, CosineDecaysToMinLrAndStaysThere) {
  const LearningRateSchedule schedule(optim(1.0, 0.25, 3, 11), 1000);
  // Steps 3..11 are the decay: progress 0, 1/4, 1/2, 3/4, 1 at 3, 5, 7, 9, 11.
  EXPECT_DOUBLE_EQ(schedule.at(5), 0.25 + 0.75 * (1 + std::sqrt(0.5)) / 2);
  EXPECT_DOUBLE_EQ(schedule.at(7), 0.625);
  EXPECT_DOUBLE_EQ(schedule.at(9), 0.25 + 0.75 * (1 - std::sqrt(0.5)) / 2);
  EXPECT_EQ(schedule.at(11), 0.25);
  EXPECT_EQ(schedule.at(12), 0.25);
  EXPECT_EQ(schedule.at(1000000), 0.25);
}

TEST(LearningRateSchedule, WithoutWarmupTheFirstStepHasThePeak) {
  const LearningRateSchedule schedule(optim(0.5, 0.0, 0, 2), 1000);
  EXPECT_EQ(schedule.at(0), 0.5);
  EXPECT_DOUBLE_EQ(schedule.at(1), 0.25);
  EXPECT_EQ(schedule.at(2), 0.0);
}

TEST(LearningRateSchedule, DecayEndingWhereWarmupEndsDropsToMinLr) {
  const LearningRateSchedule schedule(optim(1.0, 0.1, 4, 4), 1000);
  EXPECT_EQ(schedule.at(3), 0.8);
  EXPECT_EQ(schedule.at(4), 0.1);
  EXPECT_EQ(schedule.at(5), 0.1);
}

TEST(LearningRateSchedule, ConstantKeepsLrAfterWarmup) {
  const LearningRateSchedule schedule(optim(1.0, 0.1, 1, 5, config::LrSchedule::constant), 10);
  EXPECT_EQ(schedule.at(0), 0.5);
  EXPECT_EQ(schedule.at(1), 1.0);
  EXPECT_EQ(schedule.at(5), 1.0);
  EXPECT_EQ(schedule.at(1000), 1.0);
}

TEST(LearningRateSchedule, ZeroDecayItersMeansMaxIters) {
  const LearningRateSchedule schedule(optim(1.0, 0.0, 0, 0), 4);
  EXPECT_EQ(schedule.decay_end(), 4);
  EXPECT_DOUBLE_EQ(schedule.at(2), 0.5);
  EXPECT_EQ(schedule.at(4), 0.0);
  const LearningRateSchedule explicit_end(optim(1.0, 0.0, 0, 8), 4);
  EXPECT_EQ(explicit_end.decay_end(), 8);
  EXPECT_DOUBLE_EQ(explicit_end.at(4), 0.5);
}

TEST(LearningRateSchedule, DependsOnTheStepAlone) {
  const LearningRateSchedule schedule(optim(3e-4, 3e-5, 100, 5000), 5000);
  const double at_2500 = schedule.at(2500);
  for (std::int64_t step : {0, 4999, 7, 2500})
    schedule.at(step);
  EXPECT_EQ(schedule.at(2500), at_2500);
  EXPECT_EQ(LearningRateSchedule(optim(3e-4, 3e-5, 100, 5000), 5000).at(2500), at_2500);
}

}  // namespace
}  // namespace loom::train
