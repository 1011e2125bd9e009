// A rank's place on its host: counted from a list of host names (no ranks
// needed), and gathered between two MPI ranks on this one host (ctest runs
// those under mpirun -np 2).
#include "loom/dist/local_placement.hpp"

#include "mpi_world.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::dist {
namespace {

using namespace loom::test;

std::pair<int, int> placement_of(const std::vector<std::string>& hosts, int rank) {
  const LocalPlacement placement = local_placement_among(hosts, rank);
  return {placement.local_rank, placement.local_size};
}

TEST(DescribePlacement, GroupsRanksByHostInOrderOfTheirFirstRank) {
  EXPECT_EQ(describe_placement({"h2", "h1", "h2"}), "h2 (ranks 0, 2), h1 (rank 1)");
  EXPECT_EQ(describe_placement({"h1", "h2"}), "h1 (rank 0), h2 (rank 1)");
}

TEST(LocalPlacementAmong, CountsLowerRanksOnTheSameHost) {
  // Ranks interleaved over two nodes, as a round-robin launcher places them.
  const std::vector<std::string> hosts{"gpu-a", "gpu-b", "gpu-a", "gpu-a", "gpu-b"};
  EXPECT_EQ(placement_of(hosts, 0), std::make_pair(0, 3));
  EXPECT_EQ(placement_of(hosts, 1), std::make_pair(0, 2));
  EXPECT_EQ(placement_of(hosts, 2), std::make_pair(1, 3));
  EXPECT_EQ(placement_of(hosts, 3), std::make_pair(2, 3));
  EXPECT_EQ(placement_of(hosts, 4), std::make_pair(1, 2));
}

TEST(LocalPlacementAmong, ComparesWholeNames) {
  // A name that extends another is another host.
  const std::vector<std::string> hosts{"node1", "node10", "node1"};
  EXPECT_EQ(placement_of(hosts, 1), std::make_pair(0, 1));
  EXPECT_EQ(placement_of(hosts, 2), std::make_pair(1, 2));
}

TEST(LocalPlacementAmong, OneRankAloneIsLocalRankZeroOfOne) {
  EXPECT_EQ(placement_of({"laptop"}, 0), std::make_pair(0, 1));
}

std::string placement_error(const std::vector<std::string>& hosts, int rank) {
  try {
    local_placement_among(hosts, rank);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(LocalPlacementAmong, ARankOutsideTheListIsAnError) {
  EXPECT_EQ(placement_error({"a", "b"}, 2),
            "local placement: rank 2 is not among the 2 host names gathered");
  EXPECT_EQ(placement_error({"a"}, -1),
            "local placement: rank -1 is not among the 1 host names gathered");
}

TEST(GatherLocalPlacement, TwoRanksOnThisHostAreLocalRanksZeroAndOne) {
  ASSERT_EQ(mpi_world().size(), 2) << "run under mpirun -np 2";
  const LocalPlacement placement = gather_local_placement(mpi_world());
  EXPECT_EQ(placement.local_rank, mpi_world().rank());
  EXPECT_EQ(placement.local_size, 2);
  EXPECT_EQ(mpi_world().all_gather_bytes(this_host_name()),
            (std::vector<std::string>{this_host_name(), this_host_name()}));
  EXPECT_FALSE(this_host_name().empty());
}

}  // namespace
}  // namespace loom::dist
