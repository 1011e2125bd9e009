// When a run stops before train.max_iters, and why. Two kinds of stop:
//
// - A stop with a checkpoint: a train.stop_signals signal (StopSignals,
//   installed by whoever runs the trainer), train.time_limit, or the SLURM
//   job's end drawing near (another step at this session's pace would end
//   within train.time_limit_margin of it). Any rank's reason stops every
//   rank at the same step (docs/ARCHITECTURE.md, invariant 4).
// - Divergence: more than train.max_bad_steps steps in a row whose loss or
//   gradient norm was not finite. Those steps changed no weights and are
//   not checkpointed; the message says where to go on from.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "loom/config/config.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/train/checkpointer.hpp"
#include "loom/train/reports.hpp"

namespace loom::train {

struct Stop {
  StopReason reason = StopReason::none;
  int signal = 0;       // with StopReason::signal
  std::string message;  // what stopped the run (and, diverged, what to do)
};

class StopPolicy {
 public:
  // train.time_limit counts from `started`; rank 0 asks SLURM for the
  // job's end (train.slurm_time_limit).
  StopPolicy(const config::TrainConfig& train, dist::Communicator& communicator,
             std::chrono::steady_clock::time_point started);

  // Counts a non-finite step (and warns on rank 0); a divergence stop when
  // there are more than train.max_bad_steps in a row. The ranks agree
  // without talking: a step's loss and gradients are the same on all.
  std::optional<Stop> count_bad_step(const StepReport& report, const Checkpointer& checkpoints);

  // A signal or a near deadline on any rank, agreed by all (a collective:
  // every rank calls it after every step). `steps_done` steps of this
  // session have run in `session_seconds`: their pace predicts the next.
  std::optional<Stop> agreed_stop(std::int64_t steps_done, double session_seconds);

 private:
  bool deadline_near(std::int64_t steps_done, double session_seconds) const;

  using Clock = std::chrono::steady_clock;
  const config::TrainConfig& train_;
  dist::Communicator& communicator_;
  std::optional<Clock::time_point> deadline_;
  StopReason deadline_reason_ = StopReason::time_limit;  // or job_end
  std::string deadline_text_;                            // for the stop message
  std::int64_t bad_in_a_row_ = 0;
};

}  // namespace loom::train
