// NCCL's unique id reaches every rank (unique_id_exchange.hpp) over either
// CPU communicator a run may have: MPI between two ranks (ctest runs the
// UniqueIdOverMpi tests under mpirun -np 2), and Gloo through a TCP store
// between two threads of one process. Making an id needs no GPU.
#include <future>
#include <utility>

#include "free_port.hpp"
#include "mpi_world.hpp"
#include "unique_id_exchange.hpp"
#include <gtest/gtest.h>

namespace loom::dist::nccl {
namespace {

using namespace loom::test;

std::string bytes_of(const UniqueId& id) {
  return std::string(id.begin(), id.end());
}

TEST(UniqueIdOverMpi, EveryRankHoldsRankZerosIdAndEachCallMakesANewOne) {
  Communicator& world = mpi_world();
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
