// The peer watch of peer_watch.hpp: rank 0 listens, the others connect and
// say which rank they are, then one thread per rank sends heartbeats and
// reads its peers' messages. A message is one byte, but for rank 0's
// notice of a lost rank:
//   'h'  heartbeat
//   'b'  goodbye: this rank is ending deliberately; its closing is not a loss
//   'L'  lost: int32 rank, uint16 length, that many bytes of reason
#include "loom/dist/peer_watch.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>
#include <utility>

#include "tcp_socket.hpp"
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loom/core/error.hpp"
#include "loom/core/exit_codes.hpp"
#include "loom/core/log.hpp"
#include "loom/dist/local_placement.hpp"

namespace loom::dist {
namespace {

using std::chrono::milliseconds;
using tcp::Clock;

constexpr char kHeartbeat = 'h';
constexpr char kGoodbye = 'b';
constexpr char kLost = 'L';
constexpr std::size_t kLostHeader = 1 + 4 + 2;

std::string errno_text() {
  return std::strerror(errno);
}

void put_u32(std::string& out, std::uint32_t value) {
  value = htonl(value);
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t value = 0;
  std::memcpy(&value, in, sizeof value);
  return ntohl(value);
}

// Rank 0's IPv4 addresses to offer: those of `interface` only when one is
// named, else MASTER_ADDR's and every interface's that is up, the loopback
// last (it serves ranks on rank 0's own host).
std::vector<std::string> offered_addresses(const PeerWatchOptions& options) {
  std::vector<std::string> outside, loopback, seen;
  for (const tcp::InterfaceAddress& entry : tcp::ipv4_addresses()) {
    seen.push_back(fmt::format("{} ({})", entry.interface, entry.address));
    if (!options.interface.empty() && options.interface != entry.interface) continue;
    (entry.loopback ? loopback : outside).push_back(entry.address);
  }
  if (!options.interface.empty() && outside.empty() && loopback.empty()) {
    throw UsageError(fmt::format(
        "dist.interface is '{}', but this host ({}) has no IPv4 address on it; it has: {}",
        options.interface, this_host_name(), fmt::join(seen, ", ")));
  }
  std::vector<std::string> offered;
  if (!options.preferred_address.empty() && options.interface.empty())
    offered.push_back(options.preferred_address);
  for (const auto* group : {&outside, &loopback})
    for (const std::string& address : *group)
      if (std::find(offered.begin(), offered.end(), address) == offered.end())
        offered.push_back(address);
  return offered;
}

struct Peer {
  int rank = 0;
  tcp::Descriptor socket;
  std::string received;  // bytes not yet parsed
  Clock::time_point last_heard;
  bool departed = false;  // said goodbye, or its closing was reported
};

class TcpPeerWatch final : public PeerWatch {
 public:
  TcpPeerWatch(Communicator& communicator, std::vector<std::string> host_names,
               const PeerWatchOptions& options, LostPeerHandler on_lost)
      : rank_(communicator.rank()),
        timeout_(options.timeout),
        heartbeat_(std::clamp(options.timeout / 5, milliseconds(50), milliseconds(1000))),
        on_lost_(std::move(on_lost)),
        host_names_(std::move(host_names)) {
    if (host_names_.size() != static_cast<std::size_t>(communicator.size()))
      throw Error(fmt::format("peer watch: {} host names for {} ranks", host_names_.size(),
                              communicator.size()));
    if (rank_ == 0) {
      accept_peers(communicator, options);
    } else {
      connect_to_rank_zero(communicator);
    }
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC | O_NONBLOCK) != 0)
      throw Error("peer watch: pipe failed: " + errno_text());
    wake_read_ = tcp::Descriptor(pipe_ends[0]);
    wake_write_ = tcp::Descriptor(pipe_ends[1]);
    for (Peer& peer : peers_)
      peer.last_heard = Clock::now();
    thread_ = std::thread([this] { watch(); });
  }

  ~TcpPeerWatch() override {
    stopping_ = true;
    (void)!::write(wake_write_.get(), "x", 1);
    if (thread_.joinable()) thread_.join();
    if (reported_) return;
    const std::string goodbye(1, kGoodbye);
    for (Peer& peer : peers_)
      tcp::send_now(peer.socket.get(), goodbye);
    // A peer whose connection closed just before this rank ended (when a
    // collective failed here because that peer died) is named now, the
    // error that explains the failure.
    char drained[8];
    while (::read(wake_read_.get(), drained, sizeof drained) > 0) {
    }
    const Clock::time_point deadline = Clock::now() + std::min(timeout_, milliseconds(kFarewellMs));
    while (!reported_ && Clock::now() < deadline &&
           std::any_of(peers_.begin(), peers_.end(),
                       [](const Peer& peer) { return !peer.departed; })) {
      if (!read_ready(tcp::remaining(deadline))) break;
    }
  }

  const std::vector<std::string>& host_names() const override { return host_names_; }

 private:
  static constexpr int kFarewellMs = 250;

  void accept_peers(Communicator& communicator, const PeerWatchOptions& options) {
    int port = 0;
    const tcp::Descriptor listener = tcp::listen_on_any_port(communicator.size(), port);
    const std::vector<std::string> addresses = offered_addresses(options);
    communicator.broadcast_bytes(fmt::format("{} {}", port, fmt::join(addresses, " ")), 0);

    const Clock::time_point deadline = Clock::now() + timeout_;
    std::vector<bool> joined(static_cast<std::size_t>(communicator.size()), false);
    joined[0] = true;
    for (int waiting = communicator.size() - 1; waiting > 0 && Clock::now() < deadline;) {
      tcp::Descriptor peer_socket = tcp::accept_within(listener, deadline);
      char hello[4];
      if (!peer_socket || !tcp::read_exactly(peer_socket.get(), hello, sizeof hello, deadline))
        continue;
      const auto rank = static_cast<int>(get_u32(hello));
      if (rank <= 0 || rank >= communicator.size() || joined[static_cast<std::size_t>(rank)])
        continue;
      joined[static_cast<std::size_t>(rank)] = true;
      peers_.push_back(Peer{rank, std::move(peer_socket), {}, {}, false});
      --waiting;
    }
    std::vector<std::string> missing;
    for (std::size_t r = 1; r < joined.size(); ++r)
      if (!joined[r]) missing.push_back(fmt::format("{} ({})", r, host_names_[r]));
    if (!missing.empty()) {
      throw Error(fmt::format(
          "peer watch: rank{} {} did not reach rank 0 at {}:{} within {} s (dist.timeout); the "
          "hosts must reach each other's addresses on some port (dist.interface picks the "
          "interface rank 0 offers)",
          missing.size() == 1 ? "" : "s", fmt::join(missing, ", "), fmt::join(addresses, ","), port,
          timeout_.count() / 1000.0));
    }
  }

  void connect_to_rank_zero(Communicator& communicator) {
    std::istringstream offer(communicator.broadcast_bytes("", 0));
    int port = 0;
    offer >> port;
    std::vector<std::string> tried;
    const milliseconds per_address = std::min(timeout_, milliseconds(3000));
    for (std::string address; offer >> address;) {
      std::string why;
      tcp::Descriptor socket_fd = tcp::connect_within(address, port, per_address, why);
      if (!socket_fd) {
        tried.push_back(fmt::format("{}:{} ({})", address, port, why));
        continue;
      }
      std::string hello;
      put_u32(hello, static_cast<std::uint32_t>(rank_));
      if (::send(socket_fd.get(), hello.data(), hello.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(hello.size())) {
        tried.push_back(fmt::format("{}:{} ({})", address, port, errno_text()));
        continue;
      }
      peers_.push_back(Peer{0, std::move(socket_fd), {}, {}, false});
      return;
    }
    throw Error(fmt::format(
        "peer watch: rank {} on {} could not reach rank 0 on {} at any address it offered: {}; "
        "set dist.interface to the interface the hosts share",
        rank_, host_names_[static_cast<std::size_t>(rank_)], host_names_[0],
        fmt::join(tried, "; ")));
  }

  void watch() {
    Clock::time_point next_heartbeat = Clock::now();
    const std::string heartbeat(1, kHeartbeat);
    while (!stopping_ && !reported_) {
      if (Clock::now() >= next_heartbeat) {
        for (Peer& peer : peers_)
          if (!peer.departed && !tcp::send_now(peer.socket.get(), heartbeat))
            closed(peer, errno_text());
        next_heartbeat = Clock::now() + heartbeat_;
      }
      read_ready(tcp::remaining(next_heartbeat));
      // Silence is judged after reading: a rank thawed after a freeze reads
      // what waited for it before it looks at the clock.
      for (Peer& peer : peers_) {
        if (reported_ || peer.departed || Clock::now() - peer.last_heard < timeout_) continue;
        report(LostPeer{peer.rank, host_of(peer.rank),
                        fmt::format("nothing from it for {} s (dist.timeout): its processes are "
                                    "frozen, or the link to its host is down",
                                    timeout_.count() / 1000.0),
                        false});
      }
    }
  }

  // Polls the peers and the wake pipe for up to `wait`, handling what came;
  // false when nothing did.
  bool read_ready(milliseconds wait) {
    std::vector<pollfd> entries;
    std::vector<Peer*> polled;
    for (Peer& peer : peers_) {
      if (peer.departed) continue;
      entries.push_back({peer.socket.get(), POLLIN, 0});
      polled.push_back(&peer);
    }
    entries.push_back({wake_read_.get(), POLLIN, 0});
    const int ready = ::poll(entries.data(), entries.size(), static_cast<int>(wait.count()));
    if (ready <= 0) return false;
    for (std::size_t i = 0; i < polled.size() && !reported_; ++i)
      if (entries[i].revents != 0) receive(*polled[i]);
    return true;
  }

  void receive(Peer& peer) {
    char buffer[512];
    const ssize_t got = ::recv(peer.socket.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got <= 0) {
      closed(peer, got == 0 ? "" : errno_text());
      return;
    }
    peer.last_heard = Clock::now();
    peer.received.append(buffer, static_cast<std::size_t>(got));
    parse(peer);
  }

  void parse(Peer& peer) {
    std::string& bytes = peer.received;
    std::size_t at = 0;
    while (at < bytes.size() && !reported_) {
      const char kind = bytes[at];
      if (kind == kHeartbeat) {
        ++at;
      } else if (kind == kGoodbye) {
        ++at;
        peer.departed = true;
      } else if (kind == kLost && bytes.size() - at >= kLostHeader) {
        const auto lost_rank = static_cast<int>(get_u32(bytes.data() + at + 1));
        const auto length =
            static_cast<std::size_t>((static_cast<unsigned char>(bytes[at + 5]) << 8) |
                                     static_cast<unsigned char>(bytes[at + 6]));
        if (bytes.size() - at < kLostHeader + length) break;
        report(
            LostPeer{lost_rank, host_of(lost_rank), bytes.substr(at + kLostHeader, length), true});
        at += kLostHeader + length;
      } else if (kind == kLost) {
        break;  // the rest of the notice is on its way
      } else {
        closed(peer, fmt::format("it sent byte {} that is no message", static_cast<int>(kind)));
        return;
      }
    }
    bytes.erase(0, at);
  }

  void closed(Peer& peer, const std::string& error) {
    if (peer.departed) return;
    peer.departed = true;
    report(LostPeer{peer.rank, host_of(peer.rank),
                    error.empty() ? std::string("its connection closed without a goodbye: the "
                                                "process ended (killed, or crashed)")
                                  : "its connection failed: " + error,
                    false});
  }

  void report(const LostPeer& lost) {
    if (reported_.exchange(true)) return;
    if (rank_ == 0) {
      // Every survivor names the rank rank 0 lost, not rank 0's departure.
      std::string notice(1, kLost);
      put_u32(notice, static_cast<std::uint32_t>(lost.rank));
      const std::size_t length = std::min<std::size_t>(lost.reason.size(), 65535);
      notice.push_back(static_cast<char>((length >> 8) & 0xff));
      notice.push_back(static_cast<char>(length & 0xff));
      notice.append(lost.reason, 0, length);
      for (Peer& peer : peers_)
        if (!peer.departed) tcp::send_now(peer.socket.get(), notice);
    }
    on_lost_(lost);
  }

  std::string host_of(int rank) const {
    if (rank < 0 || static_cast<std::size_t>(rank) >= host_names_.size()) return "?";
    return host_names_[static_cast<std::size_t>(rank)];
  }

  int rank_;
  milliseconds timeout_;
  milliseconds heartbeat_;
  LostPeerHandler on_lost_;
  std::vector<std::string> host_names_;
  std::vector<Peer> peers_;
  tcp::Descriptor wake_read_, wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reported_{false};
  std::thread thread_;
};

}  // namespace

std::string describe(const LostPeer& lost, int own_rank) {
  const std::string what =
      lost.rank == own_rank
          ? fmt::format("rank 0 lost this rank (rank {} on host {})", lost.rank, lost.host)
          : fmt::format("lost rank {} on host {}", lost.rank, lost.host);
  return fmt::format(
      "{}{}: {}; this rank stops (exit code {}): run again, with every rank, to "
      "resume from the last checkpoint",
      what, lost.relayed && lost.rank != own_rank ? " (as rank 0 saw it)" : "", lost.reason,
      to_int(ExitCode::kLostPeer));
}

std::unique_ptr<PeerWatch> watch_peers(Communicator& communicator,
                                       std::vector<std::string> host_names,
                                       const PeerWatchOptions& options, LostPeerHandler on_lost) {
  return std::make_unique<TcpPeerWatch>(communicator, std::move(host_names), options,
                                        std::move(on_lost));
}

LostPeerHandler exit_on_lost_peer(int own_rank) {
  return [own_rank](const LostPeer& lost) {
    log::error("{}", describe(lost, own_rank));
    std::_Exit(to_int(ExitCode::kLostPeer));
  };
}

}  // namespace loom::dist
