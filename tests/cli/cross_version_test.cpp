// Checkpoints cross LibTorch versions: a run that one build (say Debian's
// LibTorch 1.13) stopped with a checkpoint is resumed by a build against
// another LibTorch (pip's 2.x), and the other way round, and each carries on
// where the first left off. Registered when CMake is given the other build's
// binary (-DLOOM_PEER_LOOM=path/to/loom; `make test TORCH=pip
// PEER_LOOM=build/src/loom` does this, as CI does).
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <gtest/gtest.h>

namespace loom::test {
namespace {

CommandResult run_peer(const std::string& args) {
  return run_command(std::string("'") + LOOM_PEER_BINARY + "' " + args);
}

std::string torch_version_of(const CommandResult& version_report) {
  const std::size_t at = version_report.out.find("LibTorch");
  if (at == std::string::npos) return "";
  const std::size_t start = version_report.out.find_first_not_of(' ', at + 8);
  if (start == std::string::npos) return "";
  return version_report.out.substr(start, version_report.out.find('\n', start) - start);
}

class CheckpointAcrossVersions : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string ours = torch_version_of(run_loom("--version"));
    const std::string theirs = torch_version_of(run_peer("--version"));
    ASSERT_FALSE(theirs.empty()) << LOOM_PEER_BINARY << " --version names no LibTorch";
    ASSERT_NE(ours, theirs) << "the peer build uses the same LibTorch: nothing crosses versions";
    const CommandResult prepared = prepare_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  }

  // `loom train` on the tiny run as run `name` for `steps` steps, by the peer
  // build or by this one; in fp32, whose products the two LibTorch versions
  // round alike (their bf16 kernels differ).
  CommandResult train(bool peer, const std::string& name, int steps) {
    const std::string args =
        "train '" + config_ + "' --set run.name=" + name +
        " --set train.precision=fp32 --set train.max_iters=" + std::to_string(steps);
    return peer ? run_peer(args) : run_loom(args);
  }

  // Six steps by one build, six more by the other from its checkpoint,
  // against twelve straight by the second.
  void expect_resume_carries_on(bool first_is_peer) {
    const std::string name = first_is_peer ? "peer_then_ours" : "ours_then_peer";
    const CommandResult first = train(first_is_peer, name, 6);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const CommandResult second = train(!first_is_peer, name, 12);
    ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_NE(second.out.find("resum"), std::string::npos) << second.out;
    const CommandResult straight = train(!first_is_peer, "straight", 12);
    ASSERT_EQ(straight.exit_code, 0) << straight.err;

    const std::vector<double> resumed = logged_losses(dir_.file("runs/" + name + "/metrics.jsonl"));
    const std::vector<double> reference = logged_losses(dir_.file("runs/straight/metrics.jsonl"));
    ASSERT_EQ(resumed.size(), 12U);
    ASSERT_EQ(reference.size(), 12U);
    // The versions compute attention with different kernels (1.13 has no
    // fused one), so the losses agree to float32 rounding, not bit for bit.
    for (std::size_t i = 0; i < resumed.size(); ++i)
      EXPECT_NEAR(resumed[i], reference[i], 1e-4) << "step " << i + 1;
  }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
};

TEST_F(CheckpointAcrossVersions, TheOtherBuildResumesThisBuildsCheckpoint) {
  expect_resume_carries_on(/*first_is_peer=*/false);
}

TEST_F(CheckpointAcrossVersions, ThisBuildResumesTheOtherBuildsCheckpoint) {
  expect_resume_carries_on(/*first_is_peer=*/true);
}

}  // namespace
}  // namespace loom::test
