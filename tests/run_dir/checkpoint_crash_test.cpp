// The crash test of docs/ARCHITECTURE.md, invariant 5: a child process writes
// checkpoints in a loop and is killed with SIGKILL at a random moment,
// again and again on the same folder. After every kill the latest
// checkpoint must hold exactly what its step wrote, and be at least as new
// as the last write the child saw return; there may be none only while no
// write has ever returned. Each child resumes from the latest checkpoint,
// as a requeued job would, so the kills also land in the cleanup of the
// previous child's leftovers and in retention's deletions.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <random>

#include "checkpoint_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

constexpr int kTrials = 24;
constexpr std::int64_t kKeepLast = 2;

// The child: resume, then write checkpoints, reporting through `report`
// each step whose write returned, until killed or `limit` writes are done
// (-1: no limit).
[[noreturn]] void write_checkpoints(const fs::path& dir, int report, int limit) {
  try {
    CheckpointStore store(dir, kKeepLast);
    const std::optional<Checkpoint> latest = store.latest();
    std::int64_t step = latest ? latest->step + 1 : 0;
    for (int written = 0; written != limit; ++written, ++step) {
      store.write(step, payload_for(step));
      if (report >= 0 && ::write(report, &step, sizeof step) != sizeof step) ::_exit(4);
    }
    ::_exit(0);
  } catch (...) {
    ::_exit(3);
  }
}

// How long a child takes from fork to the end of its fifth write on this
// machine. The kills are spread over that span, so on a fast disk or a
// slow one they land in the child's start-up, inside writes, and after
// writes that returned.
std::chrono::microseconds time_five_writes(const fs::path& dir) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = ::fork();
  if (child == 0) write_checkpoints(dir, -1, 5);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// The last step the child reported, or -1.
std::int64_t last_reported(int report) {
  std::int64_t step = -1;
  std::int64_t value = 0;
  while (::read(report, &value, sizeof value) == sizeof value)
    step = value;
  return step;
}

TEST(CheckpointStoreCrash, SigkillAtAnyMomentLeavesTheLastGoodCheckpoint) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  const std::chrono::microseconds span = time_five_writes(run.path() / "timing");
  std::mt19937 random(20240501);
  std::uniform_int_distribution<std::int64_t> delay_us(0, span.count());
  std::int64_t newest_returned = -1;
  int empty_trials = 0;

  for (int trial = 0; trial < kTrials; ++trial) {
    int pipe_ends[2];
    ASSERT_EQ(::pipe(pipe_ends), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_ends[0]);
      write_checkpoints(dir, pipe_ends[1], -1);
    }
    ::close(pipe_ends[1]);
    // The first trial dies at once, before anything can have been written.
    if (trial > 0) ::usleep(static_cast<useconds_t>(delay_us(random)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "trial " << trial << ": the child ended by itself, status " << status;
    newest_returned = std::max(newest_returned, last_reported(pipe_ends[0]));
    ::close(pipe_ends[0]);

    const std::optional<Checkpoint> latest = latest_checkpoint(dir);
    if (!latest) {
      ASSERT_EQ(newest_returned, -1) << "trial " << trial << ": the checkpoint of step "
                                     << newest_returned << " was written and is gone";
      ++empty_trials;
      continue;
    }
    EXPECT_GE(latest->step, newest_returned) << "trial " << trial;
    ASSERT_TRUE(payload_matches(*latest)) << "trial " << trial << ": " << latest->dir;
    for (const Checkpoint& kept : list_checkpoints(dir)) {
      EXPECT_TRUE(payload_matches(kept)) << "trial " << trial << ": " << kept.dir;
    }
  }
  // Opening for writing clears whatever the last kill interrupted.
  CheckpointStore store(dir, kKeepLast);
  for (const std::string& name : entries_of(dir))
    EXPECT_NE(name.rfind(".tmp-", 0), 0u) << name;
  // The kills must have fallen between many writes, not all before the first.
  EXPECT_GE(newest_returned, kTrials / 2) << "five writes take " << span.count() << " us";
  EXPECT_LT(empty_trials, kTrials / 2);
}

}  // namespace
}  // namespace loom::run_dir
