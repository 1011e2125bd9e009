// run.log_level and run.log_all_ranks against -v/-q/--log-all-ranks: the
// config decides what the command line leaves open, and never more.
#include "loom/config/run_logging.hpp"

#include <gtest/gtest.h>

#include "loom/config/loader.hpp"

namespace loom::config {
namespace {

RunConfig run_section(const std::string& yaml) {
  return load_config_text("data:\n  store: a.h5\nrun:\n" + yaml, "run.yaml").run;
}

log::Options untimed() {
  log::Options options;
  options.timestamps = false;
  return options;
}

TEST(RunLogging, WithoutFlagsTheConfigDecides) {
  const log::Options options = run_log_options(
      run_section("  log_level: debug\n  log_all_ranks: true\n"), LoggingFlags{}, untimed());
  EXPECT_EQ(options.level, log::Level::debug);
  EXPECT_TRUE(options.all_ranks);
  EXPECT_FALSE(options.timestamps);  // not the config's to change

  const log::Options defaults = run_log_options(RunConfig{}, LoggingFlags{}, untimed());
  EXPECT_EQ(defaults.level, log::Level::info);
  EXPECT_FALSE(defaults.all_ranks);
}

TEST(RunLogging, LevelFlagBeatsTheConfigEitherWay) {
  LoggingFlags quiet;
  quiet.level = log::Level::warn;
  EXPECT_EQ(run_log_options(run_section("  log_level: debug\n"), quiet, untimed()).level,
            log::Level::warn);
  LoggingFlags verbose;
  verbose.level = log::Level::debug;
  EXPECT_EQ(run_log_options(run_section("  log_level: error\n"), verbose, untimed()).level,
            log::Level::debug);
}

TEST(RunLogging, AllRanksIsOnWhenEitherAsksForIt) {
  LoggingFlags all_ranks;
  all_ranks.all_ranks = true;
  EXPECT_TRUE(
      run_log_options(run_section("  log_all_ranks: false\n"), all_ranks, untimed()).all_ranks);
  EXPECT_TRUE(
      run_log_options(run_section("  log_all_ranks: true\n"), LoggingFlags{}, untimed()).all_ranks);
  EXPECT_FALSE(run_log_options(run_section("  log_all_ranks: false\n"), LoggingFlags{}, untimed())
                   .all_ranks);
  // The flag for the level leaves all_ranks to the config, and the other way round.
  LoggingFlags quiet;
  quiet.level = log::Level::warn;
  const log::Options mixed =
      run_log_options(run_section("  log_level: debug\n  log_all_ranks: true\n"), quiet, untimed());
  EXPECT_EQ(mixed.level, log::Level::warn);
  EXPECT_TRUE(mixed.all_ranks);
}

}  // namespace
}  // namespace loom::config
