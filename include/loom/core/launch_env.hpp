// Who this process is, read from the launcher's environment before any
// communicator exists: mpirun (Open MPI), srun (SLURM), or a user-set
// RANK / WORLD_SIZE / LOCAL_RANK (torchrun style). Logging needs the rank from
// the first line on; the communicators confirm it once they are up.
#pragma once

namespace loom {

// Who started this process, by the variables it set.
enum class Launcher {
  none,     // nobody: one process
  openmpi,  // mpirun: OMPI_COMM_WORLD_*
  env,      // RANK / WORLD_SIZE, set by a script or torchrun
  slurm,    // srun: SLURM_PROCID, SLURM_NTASKS, ...
};

// "none", "openmpi", "env", "slurm": for messages.
const char* launcher_name(Launcher launcher);

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;  // ranks on this node
  // Whether the launcher said which rank on its node this is; when not
  // (RANK/WORLD_SIZE without LOCAL_RANK), ranks find out from their host
  // names once they can talk (dist::gather_local_placement).
  bool local_rank_known = true;
  Launcher launcher = Launcher::none;
};

// Reads, in order of precedence, OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK,LOCAL_SIZE},
// then RANK / WORLD_SIZE / LOCAL_RANK / LOCAL_WORLD_SIZE, then
// SLURM_{PROCID,NTASKS,LOCALID,NTASKS_PER_NODE} of a job step's task (only
// with SLURM_STEP_ID set: an sbatch script itself, which has SLURM_PROCID
// but no step, is one process); a missing local size is taken to be the
// world size.
// mpirun comes first because inside an sbatch script SLURM_PROCID is 0 for
// the batch step itself. Throws loom::UsageError when a variable is not a
// number or the rank is out of range.
LaunchEnv detect_launch_env();

}  // namespace loom
