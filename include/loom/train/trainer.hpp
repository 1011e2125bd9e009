// `loom train`: one run, from a config to a run directory.
//
//   runs/<name>/config.yaml      the resolved config (every key)
//               tokenizer.json   the tokenizer the ids mean
//               metrics.jsonl    a record every train.log_interval steps and at each evaluation
//               samples/         step-00000250.txt: text sampled at each evaluation
//               loss.svg         train and validation loss, redrawn at each evaluation
//               checkpoints/     see checkpoint_store.hpp and run_checkpoint.hpp
//
// The loop (trainer.cpp) reads top to bottom: learning rate for the step,
// forward and backward over the micro-batches with the loss scaled by
// 1/accumulation, unscale and check for inf (fp16), clip, optimizer step;
// then, on their schedules, evaluation with samples and checkpoints. What
// is printed while it runs is the observer's business, so the same trainer
// drives a progress bar on a terminal and plain lines in a log file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loom/config/config.hpp"

namespace loom::train {

// What the trainer tells the outside about a run, as it happens.
struct RunStart {
  std::string run_dir;
  std::string device;        // "cpu", "cuda:0"
  std::int64_t threads = 1;  // CPU threads
  std::string threading;     // "batch slices" or "per operation"
  std::int64_t parameters = 0;
  std::int64_t vocab_size = 0;
  std::int64_t accumulation_steps = 1;
  std::int64_t tokens_per_step = 0;
  std::int64_t start_step = 0;  // > 0 when resumed
  std::int64_t max_iters = 0;
  std::vector<std::string> config_changes;  // since the checkpoint resumed from
};

struct StepReport {
  std::int64_t step = 0;  // optimizer steps done, 1..max_iters
  std::int64_t max_iters = 0;
  double loss = 0;  // mean over the step's micro-batches
  double lr = 0;
  double grad_norm = 0;  // before clipping
  double step_seconds = 0;
  double tokens_per_second = 0;
  std::optional<double> mfu;     // when a peak is known (train.peak_tflops)
  double elapsed_seconds = 0;    // training time, over all sessions of the run
  bool skipped = false;          // no update this step: fp16 overflow, or non_finite
  bool non_finite = false;       // the loss or gradient norm was NaN/inf (train.max_bad_steps)
  double sync_wait_seconds = 0;  // waiting for gradient all-reduces after backward
};

struct EvalReport {
  std::int64_t step = 0;
  double train_loss = 0;
  std::optional<double> val_loss;  // none when the store has no validation tokens
  bool best = false;               // the best validation loss so far
  double seconds = 0;
  std::vector<std::string> samples;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_start(const RunStart& start) { (void)start; }
  virtual void on_step(const StepReport& report) { (void)report; }
  virtual void on_eval(const EvalReport& report) { (void)report; }
  virtual void on_checkpoint(std::int64_t step, const std::string& dir) { (void)step, (void)dir; }
};

// Why a run ended before train.max_iters, if it did.
enum class StopReason {
  none,          // trained to train.max_iters
  signal,        // a train.stop_signals signal (checkpoint saved)
  time_limit,    // train.time_limit was near (checkpoint saved)
  job_end,       // the SLURM job's end time was near (checkpoint saved)
  another_rank,  // another rank had one of the reasons above (checkpoint saved by rank 0)
  diverged,      // more than train.max_bad_steps non-finite steps in a row (no new checkpoint)
};

struct TrainResult {
  std::string run_dir;
  std::int64_t start_step = 0;
  std::int64_t final_step = 0;
  std::optional<double> final_loss;  // of the last step trained, none when none was
  std::optional<double> final_val_loss;
  double best_val_loss = 0;  // infinity when never evaluated
  StopReason stop_reason = StopReason::none;
  int stop_signal = 0;       // with StopReason::signal: the signal
  std::string stop_message;  // what stopped the run and what to do, for the user
};

// Trains as `config` says (stopping early, with a checkpoint, when a
// StopSignals in scope reports a signal), resuming from the run directory's latest
// checkpoint when checkpoint.resume is auto and there is one. Throws
// loom::UsageError (exit code 2) for what the user must fix before anything
// runs (a missing store, a model shape that differs from the checkpoint's,
// cuda asked for where there is none), loom::Error for failures on the way.
TrainResult train(const config::Config& config, TrainingObserver& observer);

}  // namespace loom::train
