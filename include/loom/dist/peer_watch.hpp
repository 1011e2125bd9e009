// Noticing a lost rank: every rank of a run keeps a TCP connection to rank 0
// (rank 0 to every rank) beside the collectives' own, and each end sends a
// heartbeat byte several times a second on a thread of its own. A peer is
// lost when its connection closes without a goodbye (the process was
// killed or crashed), or when nothing has come from it for `timeout`
// (frozen, or its link is down). Rank 0 tells the others which rank it
// lost before it ends, so every survivor names the same rank and host.
//
// Why beside the collectives: an MPI all-reduce waits forever for a peer
// that stopped answering, and Gloo's waits are bounded only by a timeout
// long enough for a slow checkpoint; ranks started from MASTER_ADDR (srun
// without PMIx, a script) have no launcher that would end them, and would
// hold a rented node until someone noticed. Heartbeats come from their
// own thread, so a rank busy computing, evaluating or writing a checkpoint
// still answers; only a process that is gone, frozen or cut off falls
// silent.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loom/dist/communicator.hpp"

namespace loom::dist {

struct LostPeer {
  int rank = 0;          // the rank that was lost
  std::string host;      // its host name
  std::string reason;    // how it was lost, for the error message
  bool relayed = false;  // rank 0 lost it and told this rank
};

// "lost rank 1 on host h2: ..." as every rank logs it.
std::string describe(const LostPeer& lost, int own_rank);

struct PeerWatchOptions {
  std::chrono::milliseconds timeout{60'000};  // silence after which a peer is lost (dist.timeout)
  // The interface whose address rank 0 offers (dist.interface); empty: all
  // of its IPv4 addresses, the one in `preferred_address` first.
  std::string interface;
  std::string preferred_address;  // MASTER_ADDR, when the ranks were started from it
};

// Called once, on the watch's thread (or in the destructor), with the
// first lost peer. The default ends the process (see watch_peers).
using LostPeerHandler = std::function<void(const LostPeer&)>;

class PeerWatch {
 public:
  virtual ~PeerWatch() = default;
  // Every rank's host name, by rank, as the ranks told each other.
  virtual const std::vector<std::string>& host_names() const = 0;
};

// Starts the watch (a collective: every rank calls it, after the ranks
// have met over `communicator`), given every rank's host name, by rank
// (gather_host_names), for the messages. Throws loom::Error naming the
// ranks and the address when a rank cannot reach rank 0's listening socket
// within the timeout. The returned object's destructor says goodbye to the
// peers (a rank that ends deliberately, with an error or not, is not
// lost), but first gives a peer whose connection already closed a moment
// to be named: when a collective failed because a peer died, that is the
// error to give.
std::unique_ptr<PeerWatch> watch_peers(Communicator& communicator,
                                       std::vector<std::string> host_names,
                                       const PeerWatchOptions& options, LostPeerHandler on_lost);

// The handler `loom train` uses: logs describe(lost) as an error and ends
// the process at once with ExitCode::kLostPeer (no unwinding: the main
// thread may be blocked inside a collective that will never return).
LostPeerHandler exit_on_lost_peer(int own_rank);

}  // namespace loom::dist
