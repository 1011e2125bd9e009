// What `loom train` prints while it runs. On a terminal: one progress bar
// redrawn in place (step, loss, tokens/s, ETA), with evaluations and
// checkpoints printed above it. Elsewhere (a log file, a SLURM job): a plain
// line every train.log_interval steps, which reads well with `tail -f`.
#pragma once

#include <chrono>
#include <cstdint>

#include "loom/train/trainer.hpp"

namespace loom::cli {

class TrainingProgress : public train::TrainingObserver {
 public:
  // `terminal`: draw the bar (stdout is a terminal and output not quieted).
  TrainingProgress(bool terminal, std::int64_t log_interval);
  ~TrainingProgress() override;

  void on_start(const train::RunStart& start) override;
  void on_step(const train::StepReport& report) override;
  void on_eval(const train::EvalReport& report) override;
  void on_checkpoint(std::int64_t step, const std::string& dir) override;

  // Ends the bar's line, so what follows starts on a fresh one.
  void finish();

 private:
  void clear_bar();
  double eta_seconds(std::int64_t step, std::int64_t max_iters) const;

  bool terminal_;
  std::int64_t log_interval_;
  bool bar_shown_ = false;
  std::int64_t session_first_step_ = 0;
  std::chrono::steady_clock::time_point session_start_;
};

// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

}  // namespace loom::cli
