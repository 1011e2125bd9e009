// NCCL's bootstrap: before the ranks can build an NCCL communicator they
// must all hold the same unique id, which rank 0 makes (ncclGetUniqueId,
// which needs no GPU: it names a socket rank 0 listens on). The id travels
// over the CPU communicator the run already has: MPI under mpirun, Gloo
// through the TCP store for ranks started by srun or a script.
#pragma once

#include "nccl_comm.hpp"

#include "loom/dist/communicator.hpp"

namespace loom::dist::nccl {

// A new id from rank 0, on every rank of `host` (a collective: every rank
// calls it). Each call makes a new id, for a new NCCL communicator. Throws
// loom::Error when NCCL cannot make one, or when rank 0's id is not
// NCCL_UNIQUE_ID_BYTES long (ranks built against different NCCL headers).
UniqueId share_unique_id(Communicator& host);

}  // namespace loom::dist::nccl
