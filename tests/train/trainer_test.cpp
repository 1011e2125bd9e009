// The trainer end to end on a tiny real run: exact resume, accumulation
// equivalence, bf16 on the CPU, the run directory's contents, and the
// errors a user meets when resuming with a changed config.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>

#include "trainer_test_support.hpp"
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/config/loader.hpp"
#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/run_dir/run_model.hpp"
#include "loom/train/lr_schedule.hpp"

namespace loom::train {
namespace {

using namespace loom::test;
using namespace loom::run_dir;

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { prepare_tiny_store(dir_); }

  TrainResult train_with(const std::vector<std::string>& overrides) {
    return train(tiny_run_config(dir_, overrides), observer_);
  }

  std::vector<torch::Tensor> final_weights(const std::string& run_dir) {
    const TrainedModel trained = load_run_model(run_dir);
    std::vector<torch::Tensor> weights;
    for (const torch::Tensor& p : trained.model->parameters())
      weights.push_back(p.detach());
    return weights;
  }

  TempDir dir_;
  RecordingObserver observer_;
};

// docs/ARCHITECTURE.md, invariant 5: 12 steps straight and 6 + 6 with a restart in the
// middle give bit-identical losses, dropout on (the RNG state is restored)
// and evaluations with sampling in both halves (sampling draws from its
// own generator, so it does not shift the dropout masks).
TEST_F(TrainerTest, ResumedRunMatchesTheUninterruptedOneExactly) {
  const TrainResult straight = train_with({"run.name=straight"});
  ASSERT_EQ(straight.final_step, 12);

  const TrainResult first = train_with({"run.name=resumed", "train.max_iters=6"});
  EXPECT_EQ(first.final_step, 6);
  RecordingObserver second_observer;
  const TrainResult second =
      train(tiny_run_config(dir_, {"run.name=resumed", "train.max_iters=12"}), second_observer);
  EXPECT_EQ(second.start_step, 6);
  EXPECT_EQ(second.final_step, 12);
  ASSERT_EQ(second_observer.starts.size(), 1U);
  EXPECT_EQ(second_observer.starts[0].config_changes,
            std::vector<std::string>{"train.max_iters: 6 -> 12"});

  const auto expected = step_losses(straight.run_dir);
  ASSERT_EQ(expected.size(), 12U);
  EXPECT_EQ(step_losses(second.run_dir), expected);  // exact, and no step twice
  EXPECT_EQ(*second.final_val_loss, *straight.final_val_loss);
  const auto a = final_weights(straight.run_dir), b = final_weights(second.run_dir);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

// Accumulation: one forward of 8 sequences, 2 of 4, and 4 of 2 follow the
// same trajectory to float rounding (dropout off: masks differ in shape;
// fp32: bf16 products round differently for different matrix shapes).
TEST_F(TrainerTest, AccumulationMatchesOneBigBatch) {
  std::vector<std::vector<std::pair<std::int64_t, double>>> losses;
  std::vector<std::vector<torch::Tensor>> weights;
  for (const char* micro : {"8", "4", "2"}) {
    const TrainResult result = train_with(
        {std::string("run.name=micro") + micro, std::string("train.micro_batch=") + micro,
         "model.dropout=0", "train.max_iters=8", "train.precision=fp32"});
    losses.push_back(step_losses(result.run_dir));
    weights.push_back(final_weights(result.run_dir));
  }
  for (std::size_t run = 1; run < losses.size(); ++run) {
    ASSERT_EQ(losses[run].size(), losses[0].size());
    for (std::size_t s = 0; s < losses[0].size(); ++s) {
      EXPECT_EQ(losses[run][s].first, losses[0][s].first);
      EXPECT_NEAR(losses[run][s].second, losses[0][s].second, 1e-5 * losses[0][s].second);
    }
    for (std::size_t i = 0; i < weights[0].size(); ++i) {
      EXPECT_TRUE(torch::allclose(weights[run][i], weights[0][i], 1e-4, 1e-5)) << i;
    }
  }
  ASSERT_EQ(observer_.starts.size(), 3U);
  EXPECT_EQ(observer_.starts[0].accumulation_steps, 1);
  EXPECT_EQ(observer_.starts[1].accumulation_steps, 2);
  EXPECT_EQ(observer_.starts[2].accumulation_steps, 4);
}

// run.cpu_threading: batch on two threads trains the two halves of each
// batch at once; the sum of their gradients is the whole batch's, to float
// rounding (fp32, as above), and the run resumes exactly like a one-thread
// run.
TEST_F(TrainerTest, BatchSlicesOnTwoThreadsFollowTheOneThreadRun) {
  const TrainResult one = train_with({"run.name=one", "model.dropout=0", "train.precision=fp32"});
  const TrainResult two = train_with({"run.name=two", "model.dropout=0", "train.precision=fp32",
                                      "run.threads=2", "run.cpu_threading=batch"});
  ASSERT_EQ(observer_.starts.size(), 2U);
  EXPECT_EQ(observer_.starts[1].threading, "batch slices");
  const auto a = step_losses(one.run_dir), b = step_losses(two.run_dir);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t s = 0; s < a.size(); ++s)
    EXPECT_NEAR(a[s].second, b[s].second, 1e-5 * a[s].second);
  const auto wa = final_weights(one.run_dir), wb = final_weights(two.run_dir);
  for (std::size_t i = 0; i < wa.size(); ++i)
    EXPECT_TRUE(torch::allclose(wa[i], wb[i], 1e-4, 1e-5)) << i;
}

TEST_F(TrainerTest, BatchSlicesWithDropoutResumeExactly) {
  const std::vector<std::string> two_threads = {"run.threads=2", "run.cpu_threading=batch"};
  auto with = [&](std::vector<std::string> overrides) {
    overrides.insert(overrides.end(), two_threads.begin(), two_threads.end());
    return train_with(overrides);
  };
  const TrainResult straight = with({"run.name=straight"});
  with({"run.name=resumed", "train.max_iters=5"});
  const TrainResult resumed = with({"run.name=resumed"});
  EXPECT_EQ(resumed.start_step, 5);
  EXPECT_EQ(step_losses(resumed.run_dir), step_losses(straight.run_dir));
}

TEST_F(TrainerTest, Bf16TrainsOnTheCpu) {
  const TrainResult result =
      train_with({"train.precision=bf16", "train.max_iters=40", "optim.lr_decay_iters=40",
                  "eval.interval=40", "eval.samples=0"});
  ASSERT_EQ(observer_.evals.size(), 2U);  // at step 0 and at the end
  EXPECT_LT(observer_.evals[1].train_loss, observer_.evals[0].train_loss - 0.5);
  EXPECT_LT(*result.final_val_loss, *observer_.evals[0].val_loss - 0.5);
}

TEST_F(TrainerTest, RunDirectoryHoldsTheWholeRecord) {
  const TrainResult result = train_with({});
  const fs::path run = result.run_dir;
  EXPECT_EQ(run, dir_.path() / "runs" / "tiny");
  for (const char* file :
       {"config.yaml", "tokenizer.json", "metrics.jsonl", "loss.svg", "samples/step-00000000.txt",
        "samples/step-00000004.txt", "samples/step-00000012.txt"})
    EXPECT_TRUE(fs::exists(run / file)) << file;
  EXPECT_EQ(config::load_config_file((run / "config.yaml").string()), tiny_run_config(dir_));

  // A record per step (log_interval 1) with every figure, and one per evaluation.
  const std::vector<nlohmann::json> records =
      run_dir::read_metrics((run / "metrics.jsonl").string());
  std::vector<std::int64_t> eval_steps;
  for (const nlohmann::json& record : records) {
    if (record.contains("val_loss")) {
      eval_steps.push_back(record["step"]);
      EXPECT_TRUE(record.contains("train_loss"));
      continue;
    }
    for (const char* key :
         {"step", "loss", "lr", "grad_norm", "step_ms", "tokens_per_second", "elapsed"})
      EXPECT_TRUE(record.contains(key)) << key << " in " << record.dump();
  }
  EXPECT_EQ(eval_steps, (std::vector<std::int64_t>{0, 4, 8, 12}));
  EXPECT_EQ(step_losses(run.string()).size(), 12U);

  // Checkpoints at the interval, the end, and improving evaluations; the
  // last two kept, and the best one pointed at.
  EXPECT_EQ(observer_.checkpoints, (std::vector<std::int64_t>{4, 6, 8, 12}));
  std::int64_t best_step = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  for (const EvalReport& eval : observer_.evals) {
    EXPECT_EQ(eval.best, *eval.val_loss < best_loss) << eval.step;
    if (*eval.val_loss < best_loss) best_loss = *eval.val_loss, best_step = eval.step;
  }
  EXPECT_EQ(best_loss, result.best_val_loss);
  const std::optional<Checkpoint> best = best_checkpoint(run / "checkpoints");
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->step, best_step);
  std::vector<std::int64_t> kept;
  for (const Checkpoint& c : list_checkpoints(run / "checkpoints"))
    kept.push_back(c.step);
  std::vector<std::int64_t> expected_kept{8, 12};  // keep_last 2, plus the best
  if (best_step < 8) expected_kept.insert(expected_kept.begin(), best_step);
  EXPECT_EQ(kept, expected_kept);

  const CheckpointInfo info = read_checkpoint_info(resolve_checkpoint(run));
  EXPECT_EQ(info.state.step, 12);
  EXPECT_EQ(info.state.world_size, 1);
  EXPECT_EQ(info.state.config_fingerprint, config_fingerprint(tiny_run_config(dir_)));
  EXPECT_EQ(info.state.best_val_loss, result.best_val_loss);
  EXPECT_EQ(info.config, tiny_run_config(dir_));
}

// train.time_limit: the run stops with a checkpoint before the limit (with
// the margin to spare), and the next run continues from it.
TEST_F(TrainerTest, TheTimeLimitStopsTheRunWithACheckpointInTime) {
  const std::vector<std::string> limited = {
      "train.max_iters=100000", "optim.lr_decay_iters=100000", "eval.interval=0",
      "checkpoint.interval=0",  "train.time_limit=1.5",        "train.time_limit_margin=0.5"};
  const auto start = std::chrono::steady_clock::now();
  const TrainResult first = train_with(limited);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(first.stop_reason, StopReason::time_limit);
  EXPECT_EQ(first.stop_signal, 0);
  EXPECT_GT(first.final_step, 0);
  EXPECT_LT(first.final_step, 100000);
  EXPECT_LT(seconds, 3.0);  // the margin covers the last step and checkpoint
  EXPECT_EQ(latest_checkpoint(dir_.path() / "runs/tiny/checkpoints")->step, first.final_step);

  const TrainResult second = train_with(limited);
  EXPECT_EQ(second.start_step, first.final_step);
  EXPECT_GT(second.final_step, first.final_step);
}

// Inside a SLURM job the job's end time is a deadline too: with
// SLURM_JOB_END_TIME two seconds away and a one-second margin, the run
// stops with a checkpoint within a second, well before the end.
TEST_F(TrainerTest, TheSlurmJobEndStopsTheRunBeforeIt) {
  const auto end = static_cast<long long>(std::time(nullptr)) + 2;
  setenv("SLURM_JOB_END_TIME", std::to_string(end).c_str(), 1);
  const TrainResult result =
      train_with({"train.max_iters=100000", "optim.lr_decay_iters=100000", "eval.interval=0",
                  "checkpoint.interval=0", "train.time_limit_margin=1"});
  unsetenv("SLURM_JOB_END_TIME");
  EXPECT_EQ(result.stop_reason, StopReason::job_end);
  EXPECT_EQ(result.stop_message, "the SLURM job's end time (SLURM_JOB_END_TIME)");
  EXPECT_LT(static_cast<long long>(std::time(nullptr)), end);
  EXPECT_GT(result.final_step, 0);
  EXPECT_EQ(latest_checkpoint(dir_.path() / "runs/tiny/checkpoints")->step, result.final_step);

  // train.slurm_time_limit: false ignores it (the run is already done
  // with the first job's limit: a short max_iters shows the difference).
  setenv("SLURM_JOB_END_TIME", std::to_string(end).c_str(), 1);
  const TrainResult ignoring =
      train_with({"run.name=ignoring", "train.slurm_time_limit=false", "train.max_iters=3"});
  unsetenv("SLURM_JOB_END_TIME");
  EXPECT_EQ(ignoring.stop_reason, StopReason::none);
  EXPECT_EQ(ignoring.final_step, 3);
}

TEST_F(TrainerTest, AFinishedRunTrainsNoFurther) {
  train_with({"train.max_iters=6"});
  RecordingObserver again;
  const TrainResult result = train(tiny_run_config(dir_, {"train.max_iters=6"}), again);
  EXPECT_EQ(result.start_step, 6);
  EXPECT_EQ(result.final_step, 6);
  EXPECT_TRUE(again.steps.empty());
}

TEST_F(TrainerTest, ResumingWithAnotherModelShapeIsAClearError) {
  train_with({"train.max_iters=6"});
  const std::string checkpoint = (dir_.path() / "runs/tiny/checkpoints/step-00000006").string();
  EXPECT_EQ(error_message<UsageError>([&] {
              train_with({"model.n_layer=3", "model.n_embd=48", "model.dropout=0"});
            }),
            checkpoint +
                " was written for another model shape, so it cannot be resumed:\n"
                "  model.n_layer: checkpoint 2, config 3\n"
                "  model.n_embd: checkpoint 32, config 48\n"
                "restore those keys, or train under another run.name");
}

TEST_F(TrainerTest, ResumingWithAnotherLearningRateIsAllowedAndReported) {
  train_with({"train.max_iters=6"});
  RecordingObserver second;
  const TrainResult result =
      train(tiny_run_config(dir_, {"optim.lr=1e-3", "model.dropout=0"}), second);
  EXPECT_EQ(result.start_step, 6);
  EXPECT_EQ(second.starts.at(0).config_changes,
            (std::vector<std::string>{"model.dropout: 0.1 -> 0", "optim.lr: 0.003 -> 0.001",
                                      "train.max_iters: 6 -> 12"}));
  EXPECT_DOUBLE_EQ(second.steps.at(0).lr,
                   LearningRateSchedule(tiny_run_config(dir_, {"optim.lr=1e-3"}).optim, 12).at(6));
}

TEST_F(TrainerTest, ResumeNeverRefusesARunThatHasCheckpoints) {
  train_with({"train.max_iters=6"});
  EXPECT_EQ(error_message<UsageError>([&] { train_with({"checkpoint.resume=never"}); }),
            "checkpoint.resume is never, but " + (dir_.path() / "runs/tiny").string() +
                " already holds checkpoints (latest: step 6); choose another run.name or "
                "run.out_dir, delete that folder, or set checkpoint.resume: auto to continue it");
}

TEST_F(TrainerTest, MissingStoreAndCpuFp16AreUsageErrors) {
  EXPECT_EQ(error_message<UsageError>([&] { train_with({"data.store=nowhere.h5"}); }),
            "data.store 'nowhere.h5' does not exist; write it with `loom prepare CONFIG` first");
  EXPECT_EQ(error_message<UsageError>([&] { train_with({"train.precision=fp16"}); }),
            "train.precision is fp16, which needs a CUDA device (LibTorch autocasts to bf16 only "
            "on the CPU); use train.precision: bf16 or fp32 here");
}

}  // namespace
}  // namespace loom::train
