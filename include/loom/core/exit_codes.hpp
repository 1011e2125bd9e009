// The exit codes of the `loom` command. Scripts (and SLURM requeue logic) key
// on these, so a code never changes meaning once published; README.md lists
// them too.
#pragma once

namespace loom {

enum class ExitCode : int {
  kOk = 0,          // the command did what it was asked
  kFailure = 1,     // a runtime failure: I/O, a library error, a bug
  kUsage = 2,       // bad command line or config: nothing was started
  kStopped = 3,     // asked to stop (a signal, a time limit): checkpoint saved, run again to go on
  kDiverged = 4,    // the loss went NaN/inf (train.max_bad_steps): the last good checkpoint is kept
  kLostPeer = 5,    // another rank was lost (killed, frozen, cut off): run again to resume
  kDamaged = 6,     // data does not match its recorded checksums (`loom verify`; a resume
                    // with no checkpoint that verifies): nothing was deleted
  kUnverified = 7,  // `loom verify`: nothing damaged, but some data has no checksums
                    // (written by a Loom before checksums), so could not be checked
};

inline int to_int(ExitCode code) {
  return static_cast<int>(code);
}

}  // namespace loom
