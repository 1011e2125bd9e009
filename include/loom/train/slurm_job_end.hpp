// How long the SLURM job this process runs in has left, so a run can stop
// with a checkpoint before the allocation ends instead of being killed at
// it. SLURM 23.02+ exports SLURM_JOB_END_TIME (seconds since the epoch);
// older ones (Debian bookworm has 22.05) do not, so `squeue -j ID -o %L`,
// the job's time left, is asked instead. Read once, when a run starts: a
// requeued or resubmitted job starts a new process and reads it afresh.
#pragma once

#include <optional>
#include <string>

namespace loom::train {

struct SlurmJobEnd {
  double seconds_left = 0;
  std::string source;  // "SLURM_JOB_END_TIME" or "squeue"
};

// squeue's %L: "[days-][hours:]minutes:seconds" ("1-02:03:04", "59:30");
// none for a job without a limit ("UNLIMITED", "NOT_SET", "INVALID") or
// text in no such form.
std::optional<double> parse_slurm_time_left(const std::string& text);

// From SLURM_JOB_END_TIME when it is set, else from squeue when
// SLURM_JOB_ID is; none outside SLURM, for a job without a time limit, or
// when squeue cannot answer (logged as a warning: the run then only has
// train.time_limit and the signals to go by).
std::optional<SlurmJobEnd> slurm_job_end();

}  // namespace loom::train
