// The built `loom` and `loom-synth` binaries, run as a user runs them:
// output, stderr and exit codes; and the build step that stamps the git
// commit `loom --version` reports.
#include <filesystem>
#include <regex>
#include <sstream>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/config/loader.hpp"
#include "loom/core/build_info.hpp"

namespace loom {
namespace {

using namespace loom::test;

const std::string kShakespeare = std::string(LOOM_SOURCE_DIR) + "/configs/shakespeare_char.yaml";

// The 1-based number of the first line of `path` that starts with `prefix`.
std::string line_of(const std::string& path, const std::string& prefix) {
  std::istringstream lines(read_file(path));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.rfind(prefix, 0) == 0) return std::to_string(number);
  }
  return "?";
}

TEST(LoomCli, VersionNamesEveryLibrary) {
  const auto result = run_loom("--version");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::regex_search(
      result.out,
      std::regex(R"(^loom 0\.1\.0 \(git ([0-9a-f]{10}(-dirty)?|unknown), \w+ build\)\n)")))
      << result.out;
  EXPECT_NE(result.out.find("\n  LibTorch  " LOOM_TORCH_VERSION), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  MPI       Open MPI v4."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n  HDF5      1.10."), std::string::npos) << result.out;
  // A CUDA build names its CUDA (and how many GPUs it sees) and NCCL.
  const std::string cuda =
      LOOM_WITH_CUDA ? "\n  CUDA      " LOOM_CUDA_VERSION " (" : "\n  CUDA      not built in";
  const std::string nccl =
      LOOM_WITH_NCCL ? "\n  NCCL      " LOOM_NCCL_VERSION "\n" : "\n  NCCL      not built in";
  EXPECT_NE(result.out.find(cuda), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(nccl), std::string::npos) << result.out;
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
  EXPECT_EQ(bad.err, "error: " + kShakespeare + ":" + line_of(kShakespeare, "  n_embd: 384") +
                         ":11: model.n_embd: 384 is not divisible by model.n_head = 7 "
                         "(model.n_head is set at --set model.n_head=7)\n");
  const auto defaults = run_loom("config defaults");
  EXPECT_EQ(defaults.exit_code, 0);
  EXPECT_NE(
      defaults.out.find("  lr: 0.001  # peak learning rate, reached after warmup [number > 0]"),
      std::string::npos)
      << defaults.out;
}

// Runs cmake/LoomGitCommit.cmake as the build does, for the checkout at `source`.
void stamp_git_commit(const std::string& source, const std::string& header) {
  const auto result =
      run_command("cmake -DSOURCE_DIR='" + source + "' -DGIT_EXECUTABLE=git" + " -DOUTPUT='" +
                  header + "' -P '" + LOOM_SOURCE_DIR + "/cmake/LoomGitCommit.cmake'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

std::string git_in(const std::string& repo, const std::string& args) {
  const auto result =
      run_command("git -C '" + repo + "' -c user.name=loom -c user.email=loom@test" +
                  " -c commit.gpgsign=false " + args);
  EXPECT_EQ(result.exit_code, 0) << args << ": " << result.err;
  return result.out;
}

std::string header_for(const std::string& commit) {
  return "// Generated at build time by cmake/LoomGitCommit.cmake. Do not edit.\n#pragma once\n\n"
         "#define LOOM_GIT_COMMIT \"" +
         commit + "\"\n";
}

TEST(GitCommitStamp, NamesHeadMarksLocalChangesAndRewritesOnlyOnChange) {
  TempDir dir;
  const std::string repo = dir.file("repo");
  const std::string header = dir.file("git_commit.hpp");
  std::filesystem::create_directories(repo);

  stamp_git_commit(repo, header);  // not a checkout (yet)
  EXPECT_EQ(read_file(header), header_for("unknown"));

  git_in(repo, "init -q");
  write_file(repo + "/a.txt", "one\n");
  git_in(repo, "add a.txt");
  git_in(repo, "commit -q -m one");
  std::string head = git_in(repo, "rev-parse --short=10 HEAD");
  head.pop_back();  // the newline
  stamp_git_commit(repo, header);
  EXPECT_EQ(read_file(header), header_for(head));

  // The same commit again: the file is left alone, so nothing recompiles.
  const auto long_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24);
  std::filesystem::last_write_time(header, long_ago);
  stamp_git_commit(repo, header);
  EXPECT_EQ(std::filesystem::last_write_time(header), long_ago);

  // An untracked file is not a change to the commit; an edited tracked one is.
  write_file(repo + "/notes.txt", "scratch\n");
  stamp_git_commit(repo, header);
  EXPECT_EQ(read_file(header), header_for(head));
  write_file(repo + "/a.txt", "two\n");
  stamp_git_commit(repo, header);
  EXPECT_EQ(read_file(header), header_for(head + "-dirty"));

  // A new commit is seen without any reconfiguring.
  git_in(repo, "commit -q -a -m two");
  std::string next = git_in(repo, "rev-parse --short=10 HEAD");
  next.pop_back();
  ASSERT_NE(next, head);
  stamp_git_commit(repo, header);
  EXPECT_EQ(read_file(header), header_for(next));
}

TEST(LoomSynth, BadSizeExitsTwoNamingTheValueAndTheUnits) {
  const std::string accepted =
      "; expected a number >= 0 and a unit, B, K/KB, M/MB, G/GB, KiB, MiB or GiB (none = bytes), "
      "e.g. 500MB\n";
  TempDir dir;
  const std::string out = " --out '" + dir.file("x.txt") + "'";
  const auto word = run_synth("stories --size abc" + out);
  EXPECT_EQ(word.exit_code, 2);
  EXPECT_EQ(word.err, "loom-synth: --size 'abc': not a number" + accepted);
  const auto negative = run_synth("stories --size=-5MB" + out);
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.err, "loom-synth: --size '-5MB': a size cannot be negative" + accepted);
  const auto unit = run_synth("stories --size 5TB" + out);
  EXPECT_EQ(unit.exit_code, 2);
  EXPECT_EQ(unit.err, "loom-synth: --size '5TB': unknown unit 'TB'" + accepted);
  const auto huge = run_synth("stories --size 1e30GB" + out);
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_EQ(huge.err, "loom-synth: --size '1e30GB': too large" + accepted);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.txt")));
  EXPECT_EQ(run_synth("stories").exit_code, 2);  // --out missing

  // Units are read in any case; a bare number is bytes.
  EXPECT_EQ(run_synth("stories --size 2kib" + out).exit_code, 0);
  EXPECT_EQ(run_synth("stories --size 0" + out).exit_code, 0);
  EXPECT_EQ(std::filesystem::file_size(dir.file("x.txt")), 0u);
}

TEST(LoomSynth, WriteFailureExitsOneNamingThePath) {
  const auto full = run_synth("stories --size 10KB --out /dev/full");
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_EQ(full.err, "loom-synth: cannot write /dev/full: No space left on device\n");
  TempDir dir;
  const std::string blocker = write_file(dir.file("file"), "not a folder");
  const auto discord = run_synth("discord --size 10KB --out '" + blocker + "/pkg'");
  EXPECT_EQ(discord.exit_code, 1);
  EXPECT_EQ(discord.err, "loom-synth: cannot write " + blocker + "/pkg/account: Not a directory\n");
}

}  // namespace
}  // namespace loom
