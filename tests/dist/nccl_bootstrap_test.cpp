// NCCL's unique id reaches every rank (unique_id_exchange.hpp) over either
// CPU communicator a run may have: MPI between two ranks (ctest runs the
// UniqueIdOverMpi tests under mpirun -np 2), and Gloo through a TCP store
// between two threads of one process. Making an id needs no GPU.
#include <future>
#include <utility>

#include "mpi_world.hpp"
#include "unique_id_exchange.hpp"
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loom::dist::nccl {
namespace {

std::string bytes_of(const UniqueId& id) {
  return std::string(id.begin(), id.end());
}

TEST(UniqueIdOverMpi, EveryRankHoldsRankZerosIdAndEachCallMakesANewOne) {
  Communicator& world = loom::testing::mpi_world();
  ASSERT_EQ(world.size(), 2) << "run under mpirun -np 2";
  const UniqueId first = share_unique_id(world);
  const UniqueId second = share_unique_id(world);
  // Each rank made an id only if both did not receive rank 0's.
  EXPECT_EQ(world.all_gather_bytes(bytes_of(first)), std::vector<std::string>(2, bytes_of(first)));
  EXPECT_EQ(world.all_gather_bytes(bytes_of(second)),
            std::vector<std::string>(2, bytes_of(second)));
  EXPECT_NE(first, second);
  EXPECT_NE(first, UniqueId{});
}

// A port nobody listens on now: the kernel's pick for a socket bound to
// port 0, released again for the store to take.
int free_tcp_port() {
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

TEST(UniqueIdOverGloo, TwoRanksMeetingThroughTheStoreHoldTheSameIds) {
  StoreAddress address;
  address.host = "127.0.0.1";
  address.port = free_tcp_port();
  ASSERT_NE(address.port, 0) << "no free TCP port on the loopback interface";
  address.timeout_seconds = 30;
  const auto run_rank = [&address](int rank) {
    const std::unique_ptr<Communicator> host = make_gloo_communicator(address, rank, 2);
    std::pair<UniqueId, UniqueId> ids{share_unique_id(*host), share_unique_id(*host)};
    host->barrier();  // neither rank leaves while the other still talks
    return ids;
  };
  std::future<std::pair<UniqueId, UniqueId>> rank1 = std::async(std::launch::async, run_rank, 1);
  const std::pair<UniqueId, UniqueId> rank0 = run_rank(0);
  EXPECT_EQ(rank1.get(), rank0);
  EXPECT_NE(rank0.first, rank0.second);
}

}  // namespace
}  // namespace loom::dist::nccl
