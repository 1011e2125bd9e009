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
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loom/core/error.hpp"
#include "loom/core/exit_codes.hpp"
#include "loom/core/log.hpp"
#include "loom/dist/local_placement.hpp"

namespace loom::dist {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kHeartbeat = 'h';
constexpr char kGoodbye = 'b';
constexpr char kLost = 'L';
constexpr std::size_t kLostHeader = 1 + 4 + 2;

// A file descriptor closed with its owner.
class Descriptor {
 public:
  Descriptor() = default;
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(Descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Descriptor& operator=(Descriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string errno_text() {
  return std::strerror(errno);
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

void set_no_delay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

milliseconds remaining(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Waits for `events` on `fd` until `deadline`; false when it passed.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(remaining(deadline).count()));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Reads exactly `size` bytes before `deadline`; false on a timeout, an
// error or the peer closing.
bool read_exactly(int fd, char* data, std::size_t size, Clock::time_point deadline) {
  std::size_t done = 0;
  while (done < size) {
    if (!wait_for(fd, POLLIN, deadline)) return false;
    const ssize_t got = ::recv(fd, data + done, size - done, 0);
    if (got > 0) {
      done += static_cast<std::size_t>(got);
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      return false;
    }
  }
  return true;
}

// Sends what fits now: heartbeats and notices are a few bytes, and a peer
// whose buffers are full is silent anyway (its heartbeats tell).
bool send_now(int fd, const std::string& bytes) {
  const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
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
// named, else every interface's that is up, the loopback last (it serves
// ranks on rank 0's own host).
std::vector<std::string> offered_addresses(const PeerWatchOptions& options) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw Error("peer watch: getifaddrs failed: " + errno_text());
  std::vector<std::string> outside, loopback, seen;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    if ((entry->ifa_flags & IFF_UP) == 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    ::inet_ntop(AF_INET, &address->sin_addr, text, sizeof text);
    seen.push_back(fmt::format("{} ({})", entry->ifa_name, text));
    if (!options.interface.empty() && options.interface != entry->ifa_name) continue;
    ((entry->ifa_flags & IFF_LOOPBACK) != 0 ? loopback : outside).push_back(text);
  }
  ::freeifaddrs(list);
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

// A connection to host:port within `timeout`, or an empty descriptor and
// the reason in `why`.
Descriptor connect_within(const std::string& host, int port, milliseconds timeout,
                          std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      status != 0) {
    why = ::gai_strerror(status);
    return {};
  }
  Descriptor socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const addrinfo target = *found;
  Descriptor connected;
  if (socket_fd) {
    set_nonblocking(socket_fd.get(), true);
    const int status = ::connect(socket_fd.get(), target.ai_addr, target.ai_addrlen);
    if (status == 0 || errno == EINPROGRESS) {
      if (wait_for(socket_fd.get(), POLLOUT, Clock::now() + timeout)) {
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
        if (error == 0) {
          connected = std::move(socket_fd);
        } else {
          why = std::strerror(error);
        }
      } else {
        why = fmt::format("no answer within {} ms", timeout.count());
      }
    } else {
      why = errno_text();
    }
  } else {
    why = errno_text();
  }
  ::freeaddrinfo(found);
  if (connected) set_nonblocking(connected.get(), false);
  return connected;
}

struct Peer {
  int rank = 0;
  Descriptor socket;
  std::string received;  // bytes not yet parsed
  Clock::time_point last_heard;
  bool departed = false;  // said goodbye, or its closing was reported
};

class TcpPeerWatch final : public PeerWatch {
 public:
  TcpPeerWatch(Communicator& communicator, const PeerWatchOptions& options, LostPeerHandler on_lost)
      : rank_(communicator.rank()),
        timeout_(options.timeout),
        heartbeat_(std::clamp(options.timeout / 5, milliseconds(50), milliseconds(1000))),
        on_lost_(std::move(on_lost)) {
    host_names_ = communicator.all_gather_bytes(this_host_name());
    if (rank_ == 0) {
      accept_peers(communicator, options);
    } else {
      connect_to_rank_zero(communicator);
    }
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC | O_NONBLOCK) != 0)
      throw Error("peer watch: pipe failed: " + errno_text());
    wake_read_ = Descriptor(pipe_ends[0]);
    wake_write_ = Descriptor(pipe_ends[1]);
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
      send_now(peer.socket.get(), goodbye);
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
      if (!read_ready(remaining(deadline))) break;
    }
  }

  const std::vector<std::string>& host_names() const override { return host_names_; }

 private:
  static constexpr int kFarewellMs = 250;

  void accept_peers(Communicator& communicator, const PeerWatchOptions& options) {
    Descriptor listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener.get(), communicator.size()) != 0 ||
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw Error("peer watch: rank 0 could not listen on a TCP port: " + errno_text());
    }
    const std::vector<std::string> addresses = offered_addresses(options);
    const int port = ntohs(address.sin_port);
    offer_ = fmt::format("{}:{}", fmt::join(addresses, ","), port);
    communicator.broadcast_bytes(fmt::format("{} {}", port, fmt::join(addresses, " ")), 0);

    const Clock::time_point deadline = Clock::now() + timeout_;
    std::vector<bool> joined(static_cast<std::size_t>(communicator.size()), false);
    joined[0] = true;
    for (int waiting = communicator.size() - 1; waiting > 0;) {
      if (!wait_for(listener.get(), POLLIN, deadline)) break;
      Descriptor peer_socket(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer_socket) continue;
      char hello[4];
      if (!read_exactly(peer_socket.get(), hello, sizeof hello, deadline)) continue;
      const auto rank = static_cast<int>(get_u32(hello));
      if (rank <= 0 || rank >= communicator.size() || joined[static_cast<std::size_t>(rank)])
        continue;
      joined[static_cast<std::size_t>(rank)] = true;
      set_no_delay(peer_socket.get());
      peers_.push_back(Peer{rank, std::move(peer_socket), {}, {}, false});
      --waiting;
    }
    std::vector<std::string> missing;
    for (std::size_t r = 1; r < joined.size(); ++r)
      if (!joined[r]) missing.push_back(fmt::format("{} ({})", r, host_names_[r]));
    if (!missing.empty()) {
      throw Error(fmt::format(
          "peer watch: rank{} {} did not reach rank 0 at {} within {} s (dist.timeout); the "
          "hosts must reach each other's addresses on some port (dist.interface picks the "
          "interface rank 0 offers)",
          missing.size() == 1 ? "" : "s", fmt::join(missing, ", "), offer_,
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
      Descriptor socket_fd = connect_within(address, port, per_address, why);
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
      set_no_delay(socket_fd.get());
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
          if (!peer.departed && !send_now(peer.socket.get(), heartbeat)) closed(peer, errno_text());
        next_heartbeat = Clock::now() + heartbeat_;
      }
      read_ready(remaining(next_heartbeat));
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
        if (!peer.departed) send_now(peer.socket.get(), notice);
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
  std::string offer_;
  std::vector<Peer> peers_;
  Descriptor wake_read_, wake_write_;
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

std::unique_ptr<PeerWatch> watch_peers(Communicator& communicator, const PeerWatchOptions& options,
                                       LostPeerHandler on_lost) {
  return std::make_unique<TcpPeerWatch>(communicator, options, std::move(on_lost));
}

LostPeerHandler exit_on_lost_peer(int own_rank) {
  return [own_rank](const LostPeer& lost) {
    log::error("{}", describe(lost, own_rank));
    std::_Exit(to_int(ExitCode::kLostPeer));
  };
}

}  // namespace loom::dist
