// Stopping a run cleanly. SIGTERM (what SLURM sends at preemption and at the
// time limit, and what `kill` sends), SIGINT (Ctrl-C) and SIGUSR1 (what
// `sbatch --signal=B:USR1@120` can send ahead of the limit) only raise a
// flag; the trainer looks at it between steps, has every rank agree
// (DESIGN.md invariant 4), writes a checkpoint and exits with
// ExitCode::kStopped: "saved, run me again". A second SIGINT does not wait:
// it ends the process at once, as Ctrl-C twice should.
#pragma once

namespace loom::train {

class StopSignals {
 public:
  // Installs the handlers; the previous ones come back on destruction.
  // One at a time per process.
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop (SIGTERM, SIGINT, SIGUSR1), or 0.
  static int requested();
};

}  // namespace loom::train
