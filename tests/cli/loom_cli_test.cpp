// The built `loom` binary, run as a user runs it: output, stderr and exit
// codes.
#include <sstream>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/config/loader.hpp"

namespace loom {
namespace {

using testing::run_loom;
using testing::TempDir;
using testing::write_file;

const std::string kShakespeare = std::string(LOOM_SOURCE_DIR) + "/configs/shakespeare_char.yaml";

// The 1-based number of the first line of `path` that starts with `prefix`.
std::string line_of(const std::string& path, const std::string& prefix) {
  std::istringstream lines(testing::read_file(path));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.rfind(prefix, 0) == 0) return std::to_string(number);
  }
  return "?";
}

TEST(LoomCli, VersionNamesEveryLibrary) {
  const auto result = run_loom("--version");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("loom 0.1.0 (git ", 0), 0u) << result.out;
  EXPECT_NE(result.out.find("\n  LibTorch  1."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  MPI       Open MPI v4."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  HDF5      1.10."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  CUDA      "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  NCCL      "), std::string::npos) << result.out;
}

TEST(LoomCli, HelpExitsZeroAndListsCommands) {
  const auto result = run_loom("--help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("config"), std::string::npos) << result.out;
  const auto config_help = run_loom("config show --help");
  EXPECT_EQ(config_help.exit_code, 0);
  EXPECT_NE(config_help.out.find("--set"), std::string::npos) << config_help.out;
}

TEST(LoomCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_loom("").exit_code, 2);
  EXPECT_EQ(run_loom("frobnicate").exit_code, 2);
  EXPECT_EQ(run_loom("config show").exit_code, 2);  // FILE missing
  EXPECT_EQ(run_loom("--no-such-flag").exit_code, 2);
}

TEST(LoomCli, ConfigShowPrintsTheResolvedConfigWhichLoadsBack) {
  const auto result = run_loom("config show '" + kShakespeare + "' --set optim.lr=3e-4");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\noptim:\n  lr: 0.0003\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("  name: \"shakespeare_char\"\n"), std::string::npos);
  const config::Config shown = config::load_config_text(result.out, "shown.yaml");
  const config::Config direct = config::load_config_file(kShakespeare, {"optim.lr=3e-4"});
  EXPECT_TRUE(shown == direct);
}

TEST(LoomCli, MisspeltKeyExitsTwoNamingFileLineKeyAndSuggestion) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("typo.yaml"), "data:\n  store: a.h5\noptim:\n  lerning_rate: 3e-4\n");
  const auto result = run_loom("config show '" + path + "'");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "error: " + path +
                            ":4:3: unknown key 'optim.lerning_rate'; did you mean 'optim.lr'?\n");
}

TEST(LoomCli, ConfigCheckAndDefaults) {
  const auto ok = run_loom("config check '" + kShakespeare + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, kShakespeare + ": ok\n");
  const auto bad = run_loom("config check '" + kShakespeare + "' --set model.n_head=7");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: " + kShakespeare + ":" + line_of(kShakespeare, "  n_embd: 128") +
                         ":11: model.n_embd: 128 is not divisible by model.n_head = 7 "
                         "(model.n_head is set at --set model.n_head=7)\n");
  const auto defaults = run_loom("config defaults");
  EXPECT_EQ(defaults.exit_code, 0);
  EXPECT_NE(
      defaults.out.find("  lr: 0.001  # peak learning rate, reached after warmup [number > 0]"),
      std::string::npos)
      << defaults.out;
}

}  // namespace
}  // namespace loom
