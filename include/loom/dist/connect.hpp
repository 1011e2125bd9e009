// The one place that decides how this process joins the run's ranks: which
// backend carries their collectives (dist.backend) and which device this
// rank computes on (run.device and the rank's place on its node). Whatever
// the number of ranks, the trainer gets a communicator and makes the same
// calls; with one rank it is the solo communicator and nothing travels.
//
//   dist.backend  ranks on the CPU                   ranks on CUDA
//   auto          mpi under mpirun, gloo otherwise   nccl
//   mpi           MPI (needs mpirun)                 error: MPI carries CPU tensors
//   gloo          Gloo over MASTER_ADDR's TCP store  error: Gloo carries CPU tensors
//   nccl          error: NCCL carries CUDA tensors   NCCL (needs a build with it)
//
// NCCL carries the gradients; the flags and sums of a CUDA run (CPU
// tensors) and NCCL's own start-up go over the CPU backend auto picks.
// Every rank must compute on the same kind of device (checked once the
// ranks have met).
#pragma once

#include <memory>

#include <torch/types.h>

#include "loom/config/config.hpp"
#include "loom/core/launch_env.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/dist/peer_watch.hpp"

namespace loom::dist {

struct Connection {
  std::unique_ptr<Communicator> communicator;  // never null
  torch::Device device{torch::kCPU};
  int local_world_size = 1;  // ranks on this node, this one included: they share its cores
  // Ends this rank when another is lost (peer_watch.hpp); null with one
  // rank. Declared after the communicator, so destroyed first: the peers
  // hear this rank's goodbye before its communicator closes.
  std::unique_ptr<PeerWatch> peer_watch;
};

// Joins the ranks `launch` describes (a collective: every rank calls it),
// over dist.backend and dist.interface, places this one on a device, and
// starts the peer watch with dist.timeout (a lost peer ends this process
// with exit code 5, dist::exit_on_lost_peer). Throws loom::UsageError naming the key,
// before the ranks meet, for a backend that cannot carry this run's tensors
// or was not built in, or a device LibTorch does not see; after, when the
// ranks disagree on the kind of device; loom::Error when they cannot meet.
Connection connect(const LaunchEnv& launch, const config::DistConfig& dist,
                   config::Device requested_device);

// run.device for a rank: auto is the first CUDA device LibTorch sees (the
// rank's local GPU, local rank modulo the devices), else the CPU. cuda where
// LibTorch has no CUDA device is a UsageError naming run.device.
torch::Device device_for_rank(config::Device requested, int local_rank);

}  // namespace loom::dist
