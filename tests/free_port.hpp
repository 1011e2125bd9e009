// A TCP port on the loopback interface that nobody listens on now, for tests
// that start a store or a server on a port they must name in advance.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loom::test {

// The kernel's pick for a socket bound to port 0, released again for the
// caller to take; 0 when there is none.
inline int free_tcp_port() {
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool bound = socket_fd >= 0 &&
                     bind(socket_fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
                     getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (socket_fd >= 0) close(socket_fd);
  return bound ? ntohs(address.sin_port) : 0;
}

}  // namespace loom::test
