// docs/ARCHITECTURE.md, invariant 2 with real ranks: `mpirun -np 2 loom train` with
// accumulation A gives the same training as one rank with accumulation 2A
// on the same global batch: the same per-step losses, evaluations and final
// weights to float tolerance (fp32, dropout off). The data order is the
// sampler's (invariant 1), the gradients are averaged over the ranks.
#include <cstdlib>
#include <random>

#include "byte_flip.hpp"
#include "free_port.hpp"
#include "test_support.hpp"
#include "tiny_run.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loom/run_dir/metrics_log.hpp"
#include "loom/run_dir/run_checkpoint.hpp"
#include "loom/run_dir/run_model.hpp"

namespace loom {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

// mpirun as the tests run it: root allowed (CI runs as root), no binding
// (two ranks may share a core), shared memory and loopback only.
std::string mpirun(int ranks) {
  return "mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader -np " +
         std::to_string(ranks) + " '" + LOOM_BINARY + "' ";
}

struct TrainedRun {
  std::vector<double> losses;      // per step
  std::vector<double> val_losses;  // per evaluation
  std::vector<torch::Tensor> weights;
};

class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto prepared = prepare_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  }

  // fp32: the equivalences below hold to float rounding of fp32 products;
  // bf16 products (train.precision: auto on a CPU with native bf16) round
  // differently for the different matrix shapes each layout multiplies.
  static std::string train_args(const std::string& config, const std::string& name,
                                int micro_batch) {
    return "train '" + config + "' --no-progress-bar --set run.name=" + name +
           " --set model.dropout=0 --set run.threads=1 --set train.precision=fp32" +
           " --set train.micro_batch=" + std::to_string(micro_batch);
  }

  TrainedRun train(int ranks, const std::string& name, int micro_batch,
                   const std::string& more_args = "") {
    const std::string args = train_args(config_, name, micro_batch) + more_args;
    const auto result = ranks == 1 ? run_loom(args) : run_command(mpirun(ranks) + args);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return read_run(name);
  }

  TrainedRun read_run(const std::string& name) {
    TrainedRun run;
    const std::string dir = (dir_.path() / "runs" / name).string();
    for (const nlohmann::json& record : run_dir::read_metrics(dir + "/metrics.jsonl")) {
      if (record.contains("loss")) run.losses.push_back(record["loss"]);
      if (record.contains("val_loss")) run.val_losses.push_back(record["val_loss"]);
    }
    const run_dir::TrainedModel trained = run_dir::load_run_model(dir);
    for (const torch::Tensor& p : trained.model->parameters())
      run.weights.push_back(p.detach());
    return run;
  }

  static void expect_same_training(const TrainedRun& a, const TrainedRun& b) {
    ASSERT_EQ(a.losses.size(), 12U);
    ASSERT_EQ(a.losses.size(), b.losses.size());
    for (std::size_t s = 0; s < a.losses.size(); ++s)
      EXPECT_NEAR(a.losses[s], b.losses[s], 1e-5 * a.losses[s]) << "step " << s + 1;
    ASSERT_EQ(a.val_losses.size(), b.val_losses.size());
    for (std::size_t e = 0; e < a.val_losses.size(); ++e)
      EXPECT_NEAR(a.val_losses[e], b.val_losses[e], 1e-5 * a.val_losses[e]) << "eval " << e;
    ASSERT_EQ(a.weights.size(), b.weights.size());
    for (std::size_t i = 0; i < a.weights.size(); ++i)
      EXPECT_TRUE(torch::allclose(a.weights[i], b.weights[i], 1e-5, 1e-6)) << "parameter " << i;
  }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
};

TEST_F(DataParallel, TwoRanksEqualOneRankWithTwiceTheAccumulation) {
  const TrainedRun two = train(2, "two_ranks", 4);  // batch 8: 2 ranks x 1 micro-step of 4
  const TrainedRun one = train(1, "one_rank", 4);   // 1 rank x 2 micro-steps of 4
  expect_same_training(two, one);
}

TEST_F(DataParallel, TwoRanksWithAccumulationEqualOneRankWithFourMicroSteps) {
  const TrainedRun two = train(2, "two_ranks", 2);  // 2 ranks x 2 micro-steps of 2
  const TrainedRun one = train(1, "one_rank", 2);   // 1 rank x 4 micro-steps of 2
  expect_same_training(two, one);
}

// Without mpirun: two processes that know only RANK, WORLD_SIZE and rank 0's
// address meet through a TCP store and train over Gloo, as srun without
// PMIx or a hand-written script would start them.
TEST_F(DataParallel, RanksStartedWithoutMpirunMeetThroughTheEnvironment) {
  std::random_device random;
  const int port = 20000 + static_cast<int>(random() % 20000);
  const auto rank_command = [&](int rank) {
    return fmt::format(
        "RANK={0} WORLD_SIZE=2 LOCAL_RANK={0} MASTER_ADDR=127.0.0.1 MASTER_PORT={1} "
        "'{2}' {3}",
        rank, port, LOOM_BINARY, train_args(config_, "env_ranks", 4));
  };
  const auto result =
      run_command("(" + rank_command(1) + " >/dev/null 2>&1 &) ; " + rank_command(0));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("[rank 0] data parallel over 2 ranks (gloo)"), std::string::npos)
      << result.out;
  expect_same_training(read_run("env_ranks"), train(1, "one_rank", 4));
}

// Issue 6's elastic resume: a checkpoint written by 2 ranks resumes on 1
// (and one written by 1 on 2) with the same global batch, the accumulation
// recomputed (micro-batch 4: 1 micro-step per rank on 2 ranks, 2 on 1). The
// sampler's order does not depend on the ranks, so the stitched run equals
// the uninterrupted one. Dropout is off: its masks are drawn per rank and
// micro-step, so with dropout on the runs would differ after the change.
TEST_F(DataParallel, ACheckpointResumesOnAnotherNumberOfRanks) {
  const TrainedRun straight = train(1, "straight", 4);
  for (const auto& [first, second] : {std::pair{2, 1}, std::pair{1, 2}}) {
    const std::string name = fmt::format("from_{}_to_{}", first, second);
    train(first, name, 4, " --set train.max_iters=6");
    const std::string args = train_args(config_, name, 4);
    const auto resumed = second == 1 ? run_loom(args) : run_command(mpirun(second) + args);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find(fmt::format(
                  "resuming step 6 (written by {} rank{}) on {} rank{}: the same global batch of "
                  "8 sequences, now {} micro-step{} of 4 per rank",
                  first, first == 1 ? "" : "s", second, second == 1 ? "" : "s", 3 - second,
                  second == 1 ? "s" : "")),
              std::string::npos)
        << resumed.out;
    const TrainedRun stitched = read_run(name);
    ASSERT_EQ(stitched.losses.size(), 12U) << name;
    for (std::size_t s = 0; s < 12; ++s)
      EXPECT_NEAR(stitched.losses[s], straight.losses[s], 1e-5 * straight.losses[s])
          << name << " step " << s + 1;
    ASSERT_EQ(stitched.weights.size(), straight.weights.size());
    for (std::size_t i = 0; i < stitched.weights.size(); ++i)
      EXPECT_TRUE(torch::allclose(stitched.weights[i], straight.weights[i], 1e-5, 1e-6))
          << name << " parameter " << i;
    const run_dir::CheckpointInfo info =
        run_dir::read_checkpoint_info(run_dir::resolve_checkpoint(dir_.path() / "runs" / name));
    EXPECT_EQ(info.state.world_size, second);
  }
}

// A damaged latest checkpoint under two ranks: rank 0 verifies, passes it
// over and tells rank 1 which step to load, so both resume from the one
// before it, and the stitched run equals the uninterrupted one.
TEST_F(DataParallel, EveryRankPassesOverADamagedCheckpointForTheSameOne) {
  const TrainedRun straight = train(1, "straight", 4);
  const std::string checkpoints = " --set checkpoint.interval=3 --set checkpoint.keep_best=false";
  train(2, "damaged", 4, checkpoints + " --set train.max_iters=6");
  const fs::path latest = dir_.path() / "runs" / "damaged" / "checkpoints" / "step-00000006";
  flip_byte(latest / "optimizer.pt");
  const auto resumed = run_command(mpirun(2) + train_args(config_, "damaged", 4) + checkpoints);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("optimizer.pt does not match its checksum"), std::string::npos)
      << resumed.err;
  EXPECT_NE(resumed.err.find("passing over it for step 3 (kept as step-00000006.damaged)"),
            std::string::npos)
      << resumed.err;
  const TrainedRun stitched = read_run("damaged");
  ASSERT_EQ(stitched.losses.size(), 12U);
  for (std::size_t s = 0; s < 12; ++s)
    EXPECT_NEAR(stitched.losses[s], straight.losses[s], 1e-5 * straight.losses[s])
        << "step " << s + 1;
}

TEST_F(DataParallel, OnlyRankZeroWritesAndAllRanksAgreeOnTheRun) {
  const auto result = run_command(mpirun(2) + "train '" + config_ +
                                  "' --no-progress-bar --set run.name=roles --set run.threads=1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // One set of progress lines (rank 0's), prefixed with the rank.
  EXPECT_NE(result.out.find("[rank 0] data parallel over 2 ranks (mpi)"), std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find("[rank 1] step"), std::string::npos) << result.out;
  const fs::path run = dir_.path() / "runs" / "roles";
  const run_dir::CheckpointInfo info =
      run_dir::read_checkpoint_info(run_dir::resolve_checkpoint(run));
  EXPECT_EQ(info.state.world_size, 2);
  EXPECT_EQ(info.state.step, 12);
}

TEST_F(DataParallel, AGlobalBatchThatDoesNotSplitIsRefusedBeforeTraining) {
  const auto result = run_command(mpirun(2) + "train '" + config_ +
                                  "' --set run.name=bad --set train.micro_batch=8");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(
      result.err.find("train.batch_size (8) must be a multiple of micro_batch (8) x ranks (2)"),
      std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "runs" / "bad" / "checkpoints" / "latest"));
}

// dist.backend: gloo under mpirun: the ranks meet through MASTER_ADDR's
// store instead of MPI and train the same.
TEST_F(DataParallel, DistBackendGlooCarriesRanksThatMpirunStarted) {
  const int port = free_tcp_port();
  ASSERT_NE(port, 0);
  const auto result =
      run_command(fmt::format("MASTER_ADDR=127.0.0.1 MASTER_PORT={} ", port) + mpirun(2) +
                  train_args(config_, "gloo_ranks", 2) + " --set dist.backend=gloo");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("[rank 0] data parallel over 2 ranks (gloo)"), std::string::npos)
      << result.out;
  expect_same_training(read_run("gloo_ranks"), train(1, "one_rank", 2));
}

// A backend that cannot carry the run stops every rank with exit code 2
// before the ranks meet, so a rank alone gets the error rather than a wait.
TEST_F(DataParallel, ABackendThatCannotCarryTheRunIsRefusedBeforeTheRanksMeet) {
  const std::string rank_one_of_two = "RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=9 ";
  const auto mpi = run_command(rank_one_of_two + "'" + LOOM_BINARY + "' " +
                               train_args(config_, "bad_backend", 4) + " --set dist.backend=mpi");
  EXPECT_EQ(mpi.exit_code, 2);
  EXPECT_NE(mpi.err.find("dist.backend is mpi, but this rank was started from RANK/WORLD_SIZE, "
                         "not by mpirun"),
            std::string::npos)
      << mpi.err;
  const auto nccl = run_command(rank_one_of_two + "'" + LOOM_BINARY + "' " +
                                train_args(config_, "bad_backend", 4) +
                                " --set dist.backend=nccl --set run.device=cpu");
  EXPECT_EQ(nccl.exit_code, 2);
  EXPECT_NE(nccl.err.find("dist.backend is nccl, which carries CUDA tensors only"),
            std::string::npos)
      << nccl.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "runs" / "bad_backend"));
}

}  // namespace
}  // namespace loom
