// The few TCP socket operations the peer watch needs, with deadlines:
// owning a descriptor, listening on a port the kernel picks, connecting
// within a time, reading a fixed number of bytes, sending without
// blocking, and the host's IPv4 addresses. Internal to src/dist.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace loom::dist::tcp {

using Clock = std::chrono::steady_clock;

// A file descriptor, closed with its owner.
class Descriptor {
 public:
  Descriptor() = default;
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(Descriptor&& other) noexcept;
  Descriptor& operator=(Descriptor&& other) noexcept;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// What is left until `deadline`, never negative.
std::chrono::milliseconds remaining(Clock::time_point deadline);

// Waits for poll `events` on `fd` until `deadline`; false when it passed.
bool wait_for(int fd, short events, Clock::time_point deadline);

// Reads exactly `size` bytes before `deadline`; false on a timeout, an
// error or the peer closing.
bool read_exactly(int fd, char* data, std::size_t size, Clock::time_point deadline);

// Sends what fits in the socket's buffer now, without SIGPIPE; false when
// the connection failed (a full buffer is no failure).
bool send_now(int fd, const std::string& bytes);

// A listening socket on every IPv4 address, on a port the kernel picks
// (`port`). Throws loom::Error when that fails.
Descriptor listen_on_any_port(int backlog, int& port);

// The next connection to `listener` before `deadline`, with TCP_NODELAY;
// an empty descriptor when none came.
Descriptor accept_within(const Descriptor& listener, Clock::time_point deadline);

// A connection to host:port (a name or an IPv4 address) within `timeout`,
// with TCP_NODELAY; or an empty descriptor and the reason in `why`.
Descriptor connect_within(const std::string& host, int port, std::chrono::milliseconds timeout,
                          std::string& why);

struct InterfaceAddress {
  std::string interface;  // eth0
  std::string address;    // 10.0.0.1
  bool loopback = false;
};

// The IPv4 addresses of the interfaces that are up. Throws loom::Error
// when they cannot be read.
std::vector<InterfaceAddress> ipv4_addresses();

}  // namespace loom::dist::tcp
