// Byte strings between two MPI ranks (ctest runs this under mpirun -np 2):
// all_gather_bytes and broadcast_bytes return exactly the bytes sent, of
// any length, every byte value included.
#include "mpi_world.hpp"
#include <gtest/gtest.h>

#include "loom/dist/communicator.hpp"

namespace loom::dist {
namespace {

using namespace loom::test;

// Every byte value, in an order that differs by rank.
std::string all_byte_values(int rank) {
  std::string bytes(256, '\0');
  for (int i = 0; i < 256; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<char>((i + 7 * rank) % 256);
  return bytes;
}

TEST(AllGatherBytes, ReturnsEveryRanksBytesByRank) {
  ASSERT_EQ(mpi_world().size(), 2) << "run under mpirun -np 2";
  const std::vector<std::string> gathered =
      mpi_world().all_gather_bytes(all_byte_values(mpi_world().rank()));
  EXPECT_EQ(gathered, (std::vector<std::string>{all_byte_values(0), all_byte_values(1)}));
}

TEST(AllGatherBytes, KeepsEachRanksLengthIncludingEmpty) {
  const std::string own = mpi_world().rank() == 0 ? std::string() : std::string("\0x\0", 3);
  EXPECT_EQ(mpi_world().all_gather_bytes(own),
            (std::vector<std::string>{"", std::string("\0x\0", 3)}));
  EXPECT_EQ(mpi_world().all_gather_bytes(""), (std::vector<std::string>{"", ""}));
}

TEST(BroadcastBytes, GivesEveryRankTheRootsBytes) {
  const int rank = mpi_world().rank();
  // The other rank's argument is longer, shorter, or empty: it is ignored.
  EXPECT_EQ(mpi_world().broadcast_bytes(all_byte_values(rank), 1), all_byte_values(1));
  EXPECT_EQ(mpi_world().broadcast_bytes(rank == 0 ? "root" : "ignored bytes", 0), "root");
  EXPECT_EQ(mpi_world().broadcast_bytes(rank == 0 ? "" : "ignored", 0), "");
}

}  // namespace
}  // namespace loom::dist
