#include "loom/train/stop_policy.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "loom/core/log.hpp"
#include "loom/train/slurm_job_end.hpp"
#include "loom/train/stop_signals.hpp"

namespace loom::train {
namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

}  // namespace

StopPolicy::StopPolicy(const config::TrainConfig& train, dist::Communicator& communicator,
                       Clock::time_point started)
    : train_(train), communicator_(communicator) {
  if (train.time_limit > 0) {
    deadline_ = started + seconds(train.time_limit);
    deadline_reason_ = StopReason::time_limit;
    deadline_text_ = fmt::format("train.time_limit ({} s)", train.time_limit);
  }
  // Rank 0 asks (one squeue per job, not one per rank); the stop is agreed
  // by all ranks at each step anyway.
  if (!train.slurm_time_limit || communicator.rank() != 0) return;
  const std::optional<SlurmJobEnd> job_end = slurm_job_end();
  if (!job_end) return;
  const Clock::time_point job_deadline = Clock::now() + seconds(job_end->seconds_left);
  log::info(
      "the SLURM job ends in {:.0f} s ({}); the run stops with a checkpoint "
      "train.time_limit_margin = {} s before",
      job_end->seconds_left, job_end->source, train.time_limit_margin);
  if (job_end->seconds_left <= train.time_limit_margin) {
    log::warn(
        "the SLURM job has {:.0f} s left, no more than train.time_limit_margin = {} s: the run "
        "will stop after its first step; lower the margin or ask for more time (sbatch --time)",
        job_end->seconds_left, train.time_limit_margin);
  }
  if (deadline_ && *deadline_ <= job_deadline) return;
  deadline_ = job_deadline;
  deadline_reason_ = StopReason::job_end;
  deadline_text_ = fmt::format("the SLURM job's end time ({})", job_end->source);
}

std::optional<Stop> StopPolicy::count_bad_step(const StepReport& report,
                                               const Checkpointer& checkpoints) {
  if (!report.non_finite) {
    bad_in_a_row_ = 0;
    return std::nullopt;
  }
  ++bad_in_a_row_;
  if (communicator_.rank() == 0) {
    log::warn("step {}: the {} is not finite; no update ({} of train.max_bad_steps = {} in a row)",
              report.step, std::isfinite(report.loss) ? "gradient norm" : "loss", bad_in_a_row_,
              train_.max_bad_steps);
  }
  if (bad_in_a_row_ <= train_.max_bad_steps) return std::nullopt;
  const std::optional<run_dir::Checkpoint> good = checkpoints.latest();
  Stop stop;
  stop.reason = StopReason::diverged;
  stop.message = fmt::format(
      "the loss or gradient norm was NaN/inf at steps {}-{}, more than train.max_bad_steps = {} "
      "in a row (those steps changed no weights and were not checkpointed). {}: lower optim.lr, "
      "or raise optim.warmup_iters or optim.grad_clip, and run again to go on from it (or delete "
      "the run to start over)",
      report.step - bad_in_a_row_ + 1, report.step, train_.max_bad_steps,
      good ? fmt::format("The last checkpoint is {} (step {})", good->dir.string(), good->step)
           : std::string("There is no checkpoint yet"));
  return stop;
}

std::optional<Stop> StopPolicy::agreed_stop(std::int64_t steps_done, double session_seconds) {
  const int signal = StopSignals::requested();
  const bool deadline_close = deadline_near(steps_done, session_seconds);
  if (!communicator_.any(signal != 0 || deadline_close)) return std::nullopt;
  Stop stop;
  stop.signal = signal;
  if (signal != 0) {
    stop.reason = StopReason::signal;
    stop.message = strsignal(signal);
  } else if (deadline_close) {
    stop.reason = deadline_reason_;
    stop.message = deadline_text_;
  } else {
    stop.reason = StopReason::another_rank;
    stop.message = "a stop on another rank";
  }
  return stop;
}

bool StopPolicy::deadline_near(std::int64_t steps_done, double session_seconds) const {
  if (!deadline_ || steps_done <= 0) return false;
  const double per_step = session_seconds / static_cast<double>(steps_done);
  const double seconds_left = std::chrono::duration<double>(*deadline_ - Clock::now()).count();
  return per_step + train_.time_limit_margin >= seconds_left;
}

}  // namespace loom::train
