// `loom train`, `loom sample` and `loom eval` as a user runs them, on the
// tiny run of tiny_run.hpp; and the crash test: `loom train` killed with
// SIGKILL at random moments, again and again, always leaves a checkpoint
// that loads, and the run it finally completes equals an uninterrupted one.
#include <chrono>
#include <cmath>
#include <csignal>
#include <optional>
#include <random>
#include <thread>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/run_dir/metrics_log.hpp"
#include "loom/run_dir/run_model.hpp"

namespace loom {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto prepared = prepare_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  }

  std::string run_dir(const std::string& name = "tiny") const {
    return (dir_.path() / "runs" / name).string();
  }

  // " --set a=1 --set b=2" for run_loom.
  static std::string set_flags(const std::vector<std::string>& settings) {
    std::string flags;
    for (const std::string& setting : settings)
      flags += " --set " + setting;
    return flags;
  }

  // Starts a run and waits until it has logged `steps` steps (or a minute).
  pid_t start_training_and_wait(const std::vector<std::string>& settings, const std::string& name,
                                std::size_t steps) const {
    std::vector<std::string> named = settings;
    named.push_back("run.name=" + name);
    const pid_t child = start_training(named);
    const std::string metrics = run_dir(name) + "/metrics.jsonl";
    poll_until([&] { return logged_losses(metrics).size() >= steps; }, std::chrono::seconds(60),
               std::chrono::milliseconds(1));
    return child;
  }

  // Starts `loom train CONFIG --set ...` in a child process, its output
  // discarded, and returns the child's pid.
  pid_t start_training(const std::vector<std::string>& settings) const {
    std::vector<std::string> args = {LOOM_BINARY, "train", config_};
    for (const std::string& setting : settings) {
      args.push_back("--set");
      args.push_back(setting);
    }
    std::vector<char*> argv;  // built before fork: the child only execs
    for (std::string& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t child = fork();
    if (child == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      execv(LOOM_BINARY, argv.data());
      _exit(127);
    }
    return child;
  }

  // The loss of every step in a run's metrics.jsonl.
  static std::vector<double> losses(const std::string& run) {
    return logged_losses(run + "/metrics.jsonl");
  }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
};

TEST_F(TrainCli, TrainsThenSamplesAndEvaluates) {
  const auto trained = run_loom("train '" + config_ + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  // Not a terminal: plain lines, one per step here (log_interval 1).
  EXPECT_NE(trained.out.find("step 1/12 | loss "), std::string::npos) << trained.out;
  EXPECT_NE(trained.out.find("step 12/12 | loss "), std::string::npos);
  EXPECT_NE(trained.out.find("step 12: train loss "), std::string::npos);
  EXPECT_NE(trained.out.find("trained steps 1..12; " + run_dir() + ": final val loss "),
            std::string::npos);
  EXPECT_EQ(losses(run_dir()).size(), 12U);

  const std::string sample_args =
      "sample '" + run_dir() + "' --prompt 'the king' --tokens 30 --seed 5";
  const auto first = run_loom(sample_args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out.rfind("the king", 0), 0U) << first.out;
  EXPECT_GT(first.out.size(), std::string("the king").size() + 10);
  EXPECT_EQ(run_loom(sample_args).out, first.out);  // the seed decides
  EXPECT_NE(first.err.find("step-00000012"), std::string::npos) << first.err;

  const auto bad = run_loom("sample '" + run_dir() + "' --temperature -1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: temperature must be >= 0, got -1\n");

  const auto evaluated = run_loom("eval '" + run_dir() + "' --split val");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  // A char tokenizer: a token is a character, so bits per token and per
  // character agree.
  const std::size_t bits = evaluated.out.find(" bits/token | ");
  ASSERT_NE(bits, std::string::npos) << evaluated.out;
  const std::string per_token = evaluated.out.substr(bits - 6, 6);
  EXPECT_NE(evaluated.out.find("| " + per_token + " bits/character"), std::string::npos)
      << evaluated.out;
  EXPECT_NE(evaluated.out.find("val split of " + dir_.file("tiny.h5") + ": 2 batches, 256 tokens"),
            std::string::npos)
      << evaluated.out;
}

TEST_F(TrainCli, UserErrorsExitWithCodeTwoAndSayWhatToDo) {
  const auto no_store = run_loom("train '" + config_ + "' --set data.store=missing.h5");
  EXPECT_EQ(no_store.exit_code, 2);
  // `loom train` stamps its lines with the time: compare what follows.
  EXPECT_EQ(no_store.err.substr(no_store.err.find("error: ")),
            "error: data.store 'missing.h5' does not exist; write it with `loom prepare CONFIG` "
            "first\n");
  const auto no_run = run_loom("sample '" + dir_.file("nothing") + "'");
  EXPECT_EQ(no_run.exit_code, 2);
  EXPECT_EQ(no_run.err,
            "error: " + dir_.file("nothing") + ": no such run directory or checkpoint\n");
  const auto bad_key = run_loom("train '" + config_ + "' --set optim.learning_rte=1");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(bad_key.err.find("unknown key 'optim.learning_rte'"), std::string::npos) << bad_key.err;
}

// docs/ARCHITECTURE.md, invariant 5 with the real trainer: a checkpoint every step, a
// SIGKILL at a random moment once training has started (in a step, in a
// checkpoint write, in retention), 20 times over. After each
// kill the latest checkpoint loads; at the end the run is completed and its
// per-step losses equal the uninterrupted run's exactly (dropout on).
TEST_F(TrainCli, KilledAtRandomMomentsItAlwaysResumesFromALoadableCheckpoint) {
  // Long enough that the kills land all along the run, not after its end.
  const std::vector<std::string> length = {"train.max_iters=400", "optim.lr_decay_iters=400"};
  std::vector<std::string> killed = length;
  killed.insert(killed.end(),
                {"run.name=killed", "checkpoint.interval=1", "checkpoint.keep_last=2"});
  const auto straight =
      run_loom("train '" + config_ + "' --set run.name=straight" + set_flags(length));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> delay_ms(0, 100);
  const fs::path checkpoints = fs::path(run_dir("killed")) / "checkpoints";
  const auto latest_step = [&] {
    const std::optional<run_dir::Checkpoint> latest = run_dir::latest_checkpoint(checkpoints);
    return latest ? latest->step : std::int64_t{0};
  };
  for (int trial = 0; trial < 20; ++trial) {
    const std::int64_t before = latest_step();
    const pid_t child = start_training(killed);
    ASSERT_GE(child, 0);
    // Once this child has trained (a new checkpoint appeared, however slow
    // the machine is to start it), kill it at a random moment: in a step,
    // in a checkpoint write, or in retention.
    const bool trained = poll_until([&] { return latest_step() != before; },
                                    std::chrono::seconds(60), std::chrono::milliseconds(2));
    if (trained) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(trained) << "trial " << trial << ": no new checkpoint within 60 s";

    const std::optional<run_dir::Checkpoint> latest = run_dir::latest_checkpoint(checkpoints);
    ASSERT_TRUE(latest.has_value()) << "trial " << trial;
    EXPECT_GT(latest->step, before) << "trial " << trial;
    const run_dir::TrainedModel loaded = run_dir::load_run_model(latest->dir);
    EXPECT_EQ(loaded.info.state.step, latest->step) << "trial " << trial;
  }
  EXPECT_LT(latest_step(), 400);  // the kills all landed inside the run

  const auto finished =
      run_loom("train '" + config_ + "' --set run.name=killed" + set_flags(length));
  ASSERT_EQ(finished.exit_code, 0) << finished.err;
  EXPECT_EQ(losses(run_dir("killed")), losses(run_dir("straight")));
}

// Issue 6's first acceptance check: SIGTERM at a random step stops the run
// with a checkpoint and exit code 3, and the resumed run logs exactly the
// losses an uninterrupted one does (dropout on).
TEST_F(TrainCli, SigtermAtARandomStepSavesAndTheResumedRunIsUnchanged) {
  const std::vector<std::string> settings = {"train.max_iters=300", "optim.lr_decay_iters=300",
                                             "checkpoint.interval=1000"};
  const auto straight =
      run_loom("train '" + config_ + "' --set run.name=straight" + set_flags(settings));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  std::mt19937 random(std::random_device{}());
  const std::size_t stop_after = 20 + random() % 200;
  const pid_t child = start_training_and_wait(settings, "stopped", stop_after);
  ASSERT_GE(child, 0);
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);

  const std::vector<double> before = losses(run_dir("stopped"));
  const std::optional<run_dir::Checkpoint> saved =
      run_dir::latest_checkpoint(fs::path(run_dir("stopped")) / "checkpoints");
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->step, static_cast<std::int64_t>(before.size()));  // saved where it stopped
  EXPECT_GE(before.size(), stop_after);
  EXPECT_LT(before.size(), 300U);

  const auto resumed =
      run_loom("train '" + config_ + "' --set run.name=stopped" + set_flags(settings));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(losses(run_dir("stopped")), losses(run_dir("straight")));
}

// train.stop_signals: the signals listed stop the run with a checkpoint;
// the others keep their default action (here: the process dies).
TEST_F(TrainCli, OnlyTheConfiguredSignalsStopTheRunWithACheckpoint) {
  const std::vector<std::string> settings = {"train.max_iters=100000",
                                             "optim.lr_decay_iters=100000", "eval.interval=0",
                                             "checkpoint.interval=0", "train.stop_signals=SIGUSR2"};
  pid_t child = start_training_and_wait(settings, "usr2", 10);
  kill(child, SIGUSR2);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  const std::size_t steps = losses(run_dir("usr2")).size();
  EXPECT_EQ(run_dir::latest_checkpoint(fs::path(run_dir("usr2")) / "checkpoints")->step,
            static_cast<std::int64_t>(steps));

  // SIGTERM is not in the list any more: it ends the process unsaved.
  child = start_training_and_wait(settings, "usr2", steps + 10);
  kill(child, SIGTERM);
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_EQ(run_dir::latest_checkpoint(fs::path(run_dir("usr2")) / "checkpoints")->step,
            static_cast<std::int64_t>(steps));

  const auto bad =
      run_loom("config check '" + config_ + "' --set train.stop_signals=SIGTERM,SIGKILL");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("train.stop_signals: 'SIGKILL' is not one of SIGTERM, SIGINT, SIGUSR1, "
                         "SIGUSR2, SIGHUP, SIGQUIT, SIGXCPU"),
            std::string::npos)
      << bad.err;
}

// train.max_bad_steps: 4 good steps, then a learning rate of 1e30 sends the
// loss to NaN from step 6 on (step 5's update makes weights of about 1e30,
// whose squares overflow float32 in the first layer norm, whatever the
// LibTorch version's kernels; a milder rate diverges a step earlier or later
// depending on them). Steps 6-10 are skipped (no update,
// marked in metrics.jsonl), step 11 is one too many: exit code 4, no
// checkpoint after step 4, and a message naming it. Resumed with the
// config's learning rate, the run goes on from there to the end.
TEST_F(TrainCli, NonFiniteStepsAreSkippedThenTheRunStopsAtItsLastGoodCheckpoint) {
  const auto good = run_loom("train '" + config_ + "' --no-progress-bar" +
                             set_flags({"train.max_iters=4", "checkpoint.interval=2"}));
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const std::string diverging =
      set_flags({"optim.lr=1e30", "optim.min_lr=0", "optim.grad_clip=0", "train.max_iters=30",
                 "optim.lr_decay_iters=30", "checkpoint.interval=2", "train.max_bad_steps=5"});
  const auto result = run_loom("train '" + config_ + "' --no-progress-bar" + diverging);
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find("error: stopped after step 11: the loss or gradient norm was NaN/inf "
                            "at steps 6-11, more than train.max_bad_steps = 5 in a row (those "
                            "steps changed no weights and were not checkpointed). The last "
                            "checkpoint is " +
                            run_dir() + "/checkpoints/step-00000004 (step 4): lower optim.lr"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("warning: step 6: the loss is not finite; no update (1 of "
                            "train.max_bad_steps = 5 in a row)"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(run_dir::latest_checkpoint(run_dir() + "/checkpoints")->step, 4);

  std::vector<std::int64_t> non_finite_steps;
  for (const nlohmann::json& record : run_dir::read_metrics(run_dir() + "/metrics.jsonl")) {
    if (!record.contains("loss")) continue;
    const bool bad = record.value("non_finite", false);
    EXPECT_EQ(bad, record["loss"].is_null()) << record.dump();
    if (bad) non_finite_steps.push_back(record["step"]);
  }
  EXPECT_EQ(non_finite_steps, (std::vector<std::int64_t>{6, 7, 8, 9, 10, 11}));

  const auto resumed = run_loom("train '" + config_ + "' --no-progress-bar" +
                                set_flags({"train.max_iters=12", "checkpoint.interval=2"}));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::vector<double> after = losses(run_dir());
  ASSERT_EQ(after.size(), 12U);  // steps 1-4, then 5-12 trained again
  for (const double loss : after)
    EXPECT_TRUE(std::isfinite(loss));
}

}  // namespace
}  // namespace loom
