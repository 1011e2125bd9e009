// What a training run tells the outside as it happens (the observer's
// calls) and at its end (TrainResult): the trainer's whole public vocabulary,
// shared by the trainer, its components and whoever watches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loom::train {

// What the trainer tells the outside about a run, as it happens.
struct RunStart {
  std::string run_dir;
  std::string device;        // "cpu", "cuda:0"
  std::int64_t threads = 1;  // CPU threads
  std::string threading;     // "batch slices" or "per operation"
  std::string precision;     // as chosen: "fp32", "bf16" or "fp16", never "auto"
  std::string precision_reason;
  std::int64_t parameters = 0;
  std::int64_t vocab_size = 0;
  std::int64_t accumulation_steps = 1;
  std::int64_t tokens_per_step = 0;
  std::int64_t start_step = 0;  // > 0 when resumed
  std::int64_t max_iters = 0;
  std::vector<std::string> config_changes;  // since the checkpoint resumed from
};

// One step's gradient all-reduce against its backward (dist.timeline), in
// ms from the start of the step's last micro-step (forward, then the
// backward whose hooks post the buckets' reductions).
struct SyncTimelineReport {
  double backward_end_ms = 0;       // the last gradient arrived
  std::vector<double> launched_ms;  // by bucket: its all-reduce was posted
  std::vector<double> reduced_ms;   // by bucket: its result was in place (seen after backward)
};

// Steps are numbered 1..max_iters: step k is the k-th optimizer step, and
// once it is done, k steps are. Step 0 is the run before any.
struct StepReport {
  std::int64_t step = 0;  // this step, 1..max_iters
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
  std::optional<SyncTimelineReport> sync_timeline;  // with dist.timeline, several ranks
  std::optional<double> loss_scale;                 // fp16's loss scale after the step
};

struct EvalReport {
  std::int64_t step = 0;  // evaluated after this step (0: before the first)
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

}  // namespace loom::train
