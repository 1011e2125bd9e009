// Which of this node's ranks a process is, for launches that do not say:
// mpirun sets OMPI_COMM_WORLD_LOCAL_RANK and srun SLURM_LOCALID, but ranks
// a script starts with only RANK and WORLD_SIZE know nothing of their
// neighbours. Every rank then shares its host name, and the ranks on the
// same host number themselves in rank order. The local rank picks the GPU
// (local rank modulo the devices seen) and the local size divides the
// node's cores between its ranks.
#pragma once

#include <string>
#include <vector>

#include "loom/dist/communicator.hpp"

namespace loom::dist {

struct LocalPlacement {
  int local_rank = 0;  // ranks before this one on its host
  int local_size = 1;  // ranks on its host, this one included
};

// The placement of `rank` given every rank's host name, by rank. Throws
// loom::Error when `rank` is not an index into `host_names`.
LocalPlacement local_placement_among(const std::vector<std::string>& host_names, int rank);

// Where the ranks run, for the log: "h1 (rank 0), h2 (ranks 1, 2)", hosts
// in the order of their first rank.
std::string describe_placement(const std::vector<std::string>& host_names);

// This machine's name (gethostname). Throws loom::Error when it fails.
std::string this_host_name();

// Every rank's host name, by rank, gathered over `communicator` (a
// collective: every rank calls it).
std::vector<std::string> gather_host_names(Communicator& communicator);

// Gathers every rank's host name over `communicator` (a collective: every
// rank calls it) and returns this rank's placement. Ranks on different
// nodes must have different host names, as they do on clusters and cloud
// nodes; containers sharing a name across nodes would be counted as one.
LocalPlacement gather_local_placement(Communicator& communicator);

}  // namespace loom::dist
