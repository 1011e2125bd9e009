// Reading how long the SLURM job has left: squeue's %L format, and
// SLURM_JOB_END_TIME, which wins over squeue when set. The real squeue is
// exercised by the SLURM test (tests/cluster).
#include "loom/train/slurm_job_end.hpp"

#include <cstdlib>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

namespace loom::train {
namespace {

TEST(SlurmTimeLeft, ReadsEveryFormSqueuePrints) {
  EXPECT_EQ(parse_slurm_time_left("0:00"), 0.0);
  EXPECT_EQ(parse_slurm_time_left("59:30"), 59 * 60 + 30.0);
  EXPECT_EQ(parse_slurm_time_left("2:03:04\n"), 2 * 3600 + 3 * 60 + 4.0);
  EXPECT_EQ(parse_slurm_time_left("  1-02:03:04 "), 86400 + 2 * 3600 + 3 * 60 + 4.0);
  EXPECT_EQ(parse_slurm_time_left("10-00:00:00"), 864000.0);
}

TEST(SlurmTimeLeft, NoLimitOrGarbageIsNone) {
  for (const char* text : {"UNLIMITED", "NOT_SET", "INVALID", "", "\n", "12", "1:2:3:4", "1-",
                           "-1:00", "a:00", "1:-5", "1::00", "1- 2:00:00"}) {
    EXPECT_EQ(parse_slurm_time_left(text), std::nullopt) << "'" << text << "'";
  }
}

class SlurmJobEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"SLURM_JOB_END_TIME", "SLURM_JOB_ID"})
      if (const char* value = std::getenv(name)) saved_.emplace_back(name, value);
    unsetenv("SLURM_JOB_END_TIME");
    unsetenv("SLURM_JOB_ID");
  }
  void TearDown() override {
    unsetenv("SLURM_JOB_END_TIME");
    unsetenv("SLURM_JOB_ID");
    for (const auto& [name, value] : saved_)
      setenv(name.c_str(), value.c_str(), 1);
  }
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(SlurmJobEndTest, OutsideSlurmThereIsNone) {
  EXPECT_EQ(slurm_job_end(), std::nullopt);
}

TEST_F(SlurmJobEndTest, TheEndTimeVariableGivesSecondsFromNow) {
  const long long end = static_cast<long long>(std::time(nullptr)) + 600;
  setenv("SLURM_JOB_END_TIME", std::to_string(end).c_str(), 1);
  setenv("SLURM_JOB_ID", "not a number: the variable wins, squeue is not asked", 1);
  const std::optional<SlurmJobEnd> job_end = slurm_job_end();
  ASSERT_TRUE(job_end);
  EXPECT_EQ(job_end->source, "SLURM_JOB_END_TIME");
  EXPECT_GE(job_end->seconds_left, 598);
  EXPECT_LE(job_end->seconds_left, 600);
}

TEST_F(SlurmJobEndTest, AJobWithoutEndTimeHasNone) {
  setenv("SLURM_JOB_END_TIME", "0", 1);
  EXPECT_EQ(slurm_job_end(), std::nullopt);
}

}  // namespace
}  // namespace loom::train
