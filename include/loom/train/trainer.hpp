// `loom train`: one run, from a config to a run directory (run_recorder.hpp
// and checkpoint_store.hpp list what it holds).
//
// The Trainer composes parts built from the config, each owning one policy:
// TrainingData (the store and this rank's samplers), the model, AdamW, the
// loss scaler and learning-rate schedule, a communicator and the gradient
// sync (dist::connect picks the backend; one rank gets a solo one), the
// Checkpointer (resume, checkpoint cadence, keep-best), the RunRecorder
// (metrics, samples, plot; rank 0) and the StopPolicy (signals, deadlines,
// divergence, agreed across ranks). What remains here is run(), a list of
// calls in the order things happen, and the step: learning rate, forward
// and backward over the micro-batches with the loss scaled by
// 1/accumulation, the gradient all-reduce, unscale and check for inf
// (fp16), clip, optimizer step. What is printed while it runs is the
// observer's business, so the same trainer drives a progress bar on a
// terminal and plain lines in a log file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "loom/config/config.hpp"
#include "loom/core/launch_env.hpp"
#include "loom/data/batch_tensors.hpp"
#include "loom/dist/connect.hpp"
#include "loom/dist/gradient_sync.hpp"
#include "loom/model/language_model.hpp"
#include "loom/train/checkpointer.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/cpu_worker_pool.hpp"
#include "loom/train/evaluation.hpp"
#include "loom/train/loss_scaler.hpp"
#include "loom/train/lr_schedule.hpp"
#include "loom/train/reports.hpp"
#include "loom/train/run_recorder.hpp"
#include "loom/train/stop_policy.hpp"
#include "loom/train/training_data.hpp"

namespace loom::train {

class Trainer {
 public:
  // Builds every part and resumes from the run directory's latest
  // checkpoint when there is one (see train() below for the errors).
  Trainer(const config::Config& config, TrainingObserver& observer);
  // The parts hold references to each other and to the config: a Trainer
  // stays where it was built.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;
  // Trains from where the run is to train.max_iters, or to a stop.
  TrainResult run();

 private:
  // Every rank runs the same config, starts from rank 0's weights, and
  // averages its gradients with the others'.
  void agree_across_ranks();
  // Step `step` (1..max_iters): forward, backward, all-reduce, update.
  StepReport train_step(std::int64_t step, data::BatchPrefetcher& batches);
  // Forward and backward of one micro-batch, gradients added into .grad;
  // returns its loss (already divided by the micro-steps) on the CPU.
  // `done`: the steps done before this one.
  torch::Tensor backward_whole(const data::BatchTensors& batch, std::int64_t done,
                               std::int64_t micro);
  torch::Tensor backward_in_slices(const data::BatchTensors& batch, std::int64_t done,
                                   std::int64_t micro);
  // The loss of inputs -> targets, under autocast when the precision asks.
  torch::Tensor loss_of(const torch::Tensor& inputs, const torch::Tensor& targets);
  // Dropout masks of worker `worker` at (done, micro): a function of the
  // position in the run, never of what was drawn before.
  at::Generator dropout_generator_for(std::int64_t done, std::int64_t micro, int worker) const;
  bool evaluation_due(std::int64_t step) const;
  EvalReport evaluate(std::int64_t step);
  // An evaluation's mean loss over every rank's batches.
  double mean_over_ranks(const EvalLoss& local);
  double elapsed_seconds() const;
  // The result of a run that ended after state_.step, as `stop` says.
  TrainResult ended(TrainResult result, const Stop& stop) const;

  using Clock = std::chrono::steady_clock;
  const Clock::time_point started_;  // train.time_limit counts from here
  const config::Config config_;
  TrainingObserver& observer_;
  const LaunchEnv launch_;
  dist::Connection connection_;
  dist::Communicator& communicator_;
  const torch::Device device_;
  StopPolicy stop_policy_;
  std::int64_t threads_;
  PrecisionChoice precision_;  // train.precision, auto resolved for device_
  std::optional<at::ScalarType> autocast_dtype_;
  std::filesystem::path run_dir_;
  TrainingData data_;
  std::shared_ptr<model::LanguageModel> model_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  DynamicLossScaler scaler_;
  LearningRateSchedule schedule_;
  // run.cpu_threading: batch. Each micro-batch is cut into slices trained
  // at once on these threads; without them, LibTorch's threads share each
  // operation.
  std::unique_ptr<CpuWorkerPool> slice_workers_;
  Checkpointer checkpointer_;
  RunRecorder recorder_;
  std::unique_ptr<dist::GradientSync> gradient_sync_;  // built once the weights agree
  run_dir::TrainingState state_;
  double train_seconds_before_ = 0;                 // from the checkpoint resumed from
  Clock::time_point session_start_ = Clock::now();  // this process's first step
};

// Trains as `config` says (stopping early, with a checkpoint, when a
// StopSignals in scope reports a signal), resuming from the run directory's latest
// checkpoint when checkpoint.resume is auto and there is one. Throws
// loom::UsageError (exit code 2) for what the user must fix before anything
// runs (a missing store, a model shape that differs from the checkpoint's,
// cuda asked for where there is none), loom::Error for failures on the way.
// Trainer(config, observer).run().
TrainResult train(const config::Config& config, TrainingObserver& observer);

}  // namespace loom::train
