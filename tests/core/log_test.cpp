#include "loom/core/log.hpp"

#include <gtest/gtest.h>

namespace loom::log {
namespace {

TEST(Log, LinesNameTheLevelAndTheRankWhenThereAreSeveral) {
  EXPECT_EQ(format_line(Level::info, "step 10", 0, 1), "step 10");
  EXPECT_EQ(format_line(Level::warn, "slow", 0, 1), "warning: slow");
  EXPECT_EQ(format_line(Level::error, "bad", 3, 4), "[rank 3] error: bad");
  EXPECT_EQ(format_line(Level::debug, "x", 1, 2), "[rank 1] debug: x");
}

class LogFilter : public ::testing::Test {
 protected:
  void TearDown() override {
    configure(Options{});
    set_rank(0, 1);
  }
};

TEST_F(LogFilter, OnlyRankZeroPrintsInfoByDefaultButEveryRankPrintsErrors) {
  configure(Options{});
  set_rank(0, 4);
  EXPECT_TRUE(enabled(Level::info));
  EXPECT_FALSE(enabled(Level::debug));
  set_rank(2, 4);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
}

TEST_F(LogFilter, AllRanksAndLevelOptions) {
  Options options;
  options.all_ranks = true;
  options.level = Level::debug;
  configure(options);
  set_rank(2, 4);
  EXPECT_TRUE(enabled(Level::debug));
  options.level = Level::error;
  configure(options);
  EXPECT_FALSE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
}

TEST_F(LogFilter, InfoGoesToStdoutAndErrorsToStderr) {
  Options options;
  options.timestamps = false;
  configure(options);
  set_rank(0, 1);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  info("loss {:.2f}", 1.2345);
  error("disk {} full", "/tmp");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "error: disk /tmp full\n");
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "loss 1.23\n");
}

TEST_F(LogFilter, TimestampsPrefixEachLine) {
  configure(Options{});
  set_rank(0, 1);
  ::testing::internal::CaptureStdout();
  info("hello");
  const std::string line = ::testing::internal::GetCapturedStdout();
  // "[YYYY-MM-DD HH:MM:SS] hello\n"
  ASSERT_EQ(line.size(), 28u) << line;
  EXPECT_EQ(line[0], '[');
  EXPECT_EQ(line[5], '-');
  EXPECT_EQ(line[14], ':');
  EXPECT_EQ(line.substr(20), "] hello\n");
}

}  // namespace
}  // namespace loom::log
