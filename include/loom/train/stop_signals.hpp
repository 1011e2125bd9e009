// Stopping a run cleanly. The signals of train.stop_signals (by default
// SIGTERM: what SLURM sends at preemption and at the time limit, and what
// `kill` sends; SIGINT: Ctrl-C; SIGUSR1: what `sbatch --signal=B:USR1@120`
// can send ahead of the limit) only raise a flag; the trainer looks at it
// between steps, has every rank agree (docs/ARCHITECTURE.md, invariant 4), writes a
// checkpoint and exits with ExitCode::kStopped: "saved, run me again". A
// second SIGINT does not wait: it ends the process at once, as Ctrl-C twice
// should. Signals left out of the list keep their default action.
#pragma once

#include <csignal>
#include <string>
#include <vector>

namespace loom::train {

// The number of a signal name from config::kStopSignalNames ("SIGUSR1");
// throws loom::UsageError for any other name.
int stop_signal_number(const std::string& name);

class StopSignals {
 public:
  // Installs the handler for the named signals (config::kStopSignalNames);
  // the previous handlers come back on destruction. One at a time per
  // process.
  explicit StopSignals(const std::vector<std::string>& names = {"SIGTERM", "SIGINT", "SIGUSR1"});
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop, or 0.
  static int requested();

 private:
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;  // one per signal, restored on destruction
};

}  // namespace loom::train
