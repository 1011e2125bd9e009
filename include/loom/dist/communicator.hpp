// How ranks talk: all-reduce of flat buffers (blocking or started now and
// waited for later), broadcast, barrier, and the small agreements every
// rank must reach together (docs/ARCHITECTURE.md, invariant 4: a flag one
// rank raises, such as an fp16 overflow or a stop signal, is seen by all).
//
// The trainer never knows which backend carries the bytes, nor how many
// ranks there are: a run of one rank talks to a solo communicator, whose
// collectives return at once with the rank's own values. dist::connect
// (connect.hpp) picks the backend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace loom::dist {

enum class ReduceOp { sum, average };

// An operation in flight. wait() returns when its result is in place, and
// rethrows its failure.
class PendingOperation {
 public:
  virtual ~PendingOperation() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "solo", "mpi", "gloo", "nccl"

  // Reduces `buffer` (contiguous float32 or float64) in place across all
  // ranks. Every rank must start the same reductions in the same order.
  virtual std::unique_ptr<PendingOperation> all_reduce_async(torch::Tensor buffer, ReduceOp op) = 0;
  void all_reduce(const torch::Tensor& buffer, ReduceOp op) {
    all_reduce_async(buffer, op)->wait();
  }
  // Overwrites `buffer` on every rank with rank `root`'s.
  virtual void broadcast(torch::Tensor buffer, int root) = 0;
  virtual void barrier() = 0;

  // True on every rank when any rank passes true.
  bool any(bool flag);
  double sum(double value);
  // Every rank's `value`, by rank.
  std::vector<std::int64_t> all_gather(std::int64_t value);

  // Byte strings, for start-up exchanges (host names, NCCL's unique id):
  // every rank's `bytes` by rank (lengths may differ), and rank `root`'s
  // `bytes` on every rank (the others' argument is ignored). They ride on
  // all_reduce and broadcast of CPU float64 tensors, which every backend
  // carries, one byte per element: a few kilobytes, once per run.
  std::vector<std::string> all_gather_bytes(const std::string& bytes);
  std::string broadcast_bytes(const std::string& bytes, int root);
};

// The world of one rank: every collective leaves the buffer as it is (the
// average or sum of one value is that value) and completes at once.
std::unique_ptr<Communicator> make_solo_communicator();

// The MPI backend, for CPU tensors. All MPI calls happen on one
// communication thread that this object owns (MPI is initialised there, at
// MPI_THREAD_FUNNELED), so a reduction started during backward proceeds
// while backward goes on. Throws loom::Error when MPI cannot start.
std::unique_ptr<Communicator> make_mpi_communicator();

// Where ranks started without mpirun meet: rank 0 serves a TCP key-value
// store there, and every rank connects to it.
struct StoreAddress {
  std::string host;
  int port = 29500;
  int timeout_seconds = 300;
};

// MASTER_ADDR and MASTER_PORT; a UsageError naming them when unset or bad.
StoreAddress store_address_from_environment();

// The Gloo backend (LibTorch's), for CPU tensors, bootstrapped through the
// store at `address`, over network `interface` (dist.interface; empty:
// GLOO_SOCKET_IFNAME when set, else the interface of the host's name).
// Throws loom::Error naming the address when the ranks cannot meet within
// its timeout.
std::unique_ptr<Communicator> make_gloo_communicator(const StoreAddress& address, int rank,
                                                     int size, const std::string& interface = {});

}  // namespace loom::dist
