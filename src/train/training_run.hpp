// Private to the trainer: the objects one run is made of, built (and
// resumed) by the constructor in training_run.cpp and driven by the loop in
// trainer.cpp.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "loom/config/config.hpp"
#include "loom/core/launch_env.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/token_store.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/dist/gradient_sync.hpp"
#include "loom/model/language_model.hpp"
#include "loom/run/metrics_log.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/train/checkpoint_store.hpp"
#include "loom/train/cpu_worker_pool.hpp"
#include "loom/train/evaluation.hpp"
#include "loom/train/loss_scaler.hpp"
#include "loom/train/lr_schedule.hpp"
#include "loom/train/run_checkpoint.hpp"
#include "loom/train/trainer.hpp"

namespace loom::train {

class TrainingRun {
 public:
  TrainingRun(const config::Config& config, TrainingObserver& observer);
  TrainResult run();

 private:
  // Setup, in the order the constructor calls them.
  void open_data();
  void build_model();
  // Loads the latest checkpoint when there is one and the config allows;
  // returns the config changes since it was written.
  std::vector<std::string> resume_if_possible();
  void write_run_files(bool resumed);
  // With more than one rank: the same config and parameters everywhere,
  // rank 0's initial weights on all, and the gradient sync armed.
  void start_data_parallel();
  // Only rank 0 writes files (metrics, samples, plot, checkpoints).
  bool writes_files() const { return launch_.rank == 0; }
  // An evaluation's mean loss over every rank's batches.
  double global_mean_loss(const EvalLoss& local) const;

  // The loop's parts.
  StepReport train_step(std::int64_t step, data::BatchPrefetcher& batches);
  // Forward and backward of one micro-batch, gradients added into .grad;
  // returns its loss (already divided by the micro-steps) on the CPU.
  torch::Tensor backward_whole(const BatchTensors& batch, std::int64_t step, std::int64_t micro);
  torch::Tensor backward_in_slices(const BatchTensors& batch, std::int64_t step,
                                   std::int64_t micro);
  // The loss of inputs -> targets, under autocast when the precision asks.
  torch::Tensor loss_of(const torch::Tensor& inputs, const torch::Tensor& targets);
  // Dropout masks of worker `worker` at (step, micro): a function of the
  // position in the run, never of what was drawn before.
  at::Generator dropout_generator_for(std::int64_t step, std::int64_t micro, int worker) const;
  EvalReport evaluate_at(std::int64_t step);
  void write_samples(std::int64_t step, std::vector<std::string>& samples);
  void redraw_loss_plot();
  void record_step(const StepReport& report);
  void save_checkpoint();
  double elapsed_seconds() const;
  // The earlier of train.time_limit and the SLURM job's end, when any.
  void set_deadline();
  // Whether another step (at this session's average pace) would end within
  // train.time_limit_margin of the deadline.
  bool deadline_near(std::int64_t steps_this_session) const;
  // The message of a run stopped by train.max_bad_steps.
  std::string divergence_message(std::int64_t first_bad_step, std::int64_t last_bad_step) const;

  const config::Config config_;
  TrainingObserver& observer_;
  LaunchEnv launch_;
  torch::Device device_{torch::kCPU};
  std::int64_t threads_ = 1;
  std::unique_ptr<CpuWorkerPool> workers_;            // run.cpu_threading: batch, on the CPU
  std::unique_ptr<dist::Communicator> communicator_;  // more than one rank
  std::unique_ptr<dist::GradientSync> gradient_sync_;
  std::optional<at::ScalarType> autocast_dtype_;
  std::filesystem::path run_dir_;

  std::unique_ptr<data::TokenStoreReader> store_;
  nlohmann::json tokenizer_json_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::optional<data::BatchSampler> train_sampler_;
  std::optional<data::BatchSampler> val_sampler_;  // none without validation windows
  std::int64_t tokens_per_step_ = 0;

  std::shared_ptr<model::LanguageModel> model_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  DynamicLossScaler scaler_;
  LearningRateSchedule schedule_;

  std::filesystem::path checkpoints_dir_;
  std::unique_ptr<CheckpointStore> checkpoints_;  // rank 0
  std::unique_ptr<run::MetricsLog> metrics_;      // rank 0
  TrainingState state_;
  double train_seconds_before_ = 0;  // from the checkpoint resumed from
  std::chrono::steady_clock::time_point session_start_ = std::chrono::steady_clock::now();
  // When this run object was built: train.time_limit counts from here.
  const std::chrono::steady_clock::time_point constructed_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  StopReason deadline_reason_ = StopReason::time_limit;  // or job_end
  std::string deadline_text_;                            // for the stop message
};

}  // namespace loom::train
