// The peer watch between two Gloo ranks on two threads of one process: the
// ranks learn each other's host names, and a rank that ends deliberately
// (its watch says goodbye) is not reported lost, however long the other
// waits after. Losses themselves (a rank killed, frozen, cut off) need
// processes and hosts: tests/cluster/multihost_test.sh.
#include "loom/dist/peer_watch.hpp"

#include <atomic>
#include <future>
#include <thread>

#include "free_port.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/dist/local_placement.hpp"

namespace loom::dist {
namespace {

using namespace std::chrono_literals;
using loom::test::free_tcp_port;

TEST(DescribeLostPeer, NamesTheRankTheHostAndWhatToDo) {
  const LostPeer killed{1, "h2", "its connection closed without a goodbye", false};
  EXPECT_EQ(describe(killed, 0),
            "lost rank 1 on host h2: its connection closed without a goodbye; this rank stops "
            "(exit code 5): run again, with every rank, to resume from the last checkpoint");
  const LostPeer relayed{2, "h3", "nothing from it for 5 s", true};
  EXPECT_EQ(describe(relayed, 1).substr(0, 71),
            "lost rank 2 on host h3 (as rank 0 saw it): nothing from it for 5 s; thi");
  // Rank 0 gave up on this very rank (it was frozen, and is running again).
  EXPECT_EQ(describe(LostPeer{1, "h2", "nothing from it for 5 s", true}, 1).substr(0, 70),
            "rank 0 lost this rank (rank 1 on host h2): nothing from it for 5 s; th");
}

TEST(PeerWatch, RanksKnowEachOthersHostsAndAGoodbyeIsNoLoss) {
  StoreAddress address;
  address.host = "127.0.0.1";
  address.port = free_tcp_port();
  ASSERT_NE(address.port, 0) << "no free TCP port on the loopback interface";
  address.timeout_seconds = 30;
  PeerWatchOptions options;
  options.timeout = 300ms;
  options.preferred_address = "127.0.0.1";
  std::atomic<int> reports{0};
  const auto count_reports = [&reports](const LostPeer&) { ++reports; };

  std::promise<void> rank1_gone;
  std::future<std::vector<std::string>> rank1 = std::async(std::launch::async, [&] {
    const std::unique_ptr<Communicator> world = make_gloo_communicator(address, 1, 2);
    std::vector<std::string> hosts;
    {
      const std::unique_ptr<PeerWatch> watch =
          watch_peers(*world, gather_host_names(*world), options, count_reports);
      hosts = watch->host_names();
      world->barrier();  // both watches run
    }
    rank1_gone.set_value();
    world->barrier();  // rank 0 has watched long enough
    return hosts;
  });
  const std::unique_ptr<Communicator> world = make_gloo_communicator(address, 0, 2);
  {
    const std::unique_ptr<PeerWatch> watch =
        watch_peers(*world, gather_host_names(*world), options, count_reports);
    EXPECT_EQ(watch->host_names(), std::vector<std::string>(2, this_host_name()));
    world->barrier();
    rank1_gone.get_future().wait();
    // Ten timeouts after rank 1 said goodbye and closed its connection:
    // neither the closing nor the silence since is a loss.
    EXPECT_FALSE(test::poll_until(
        [&] { return reports != 0; },
        std::chrono::duration_cast<std::chrono::milliseconds>(10 * options.timeout), 20ms));
  }
  world->barrier();
  EXPECT_EQ(rank1.get(), std::vector<std::string>(2, this_host_name()));
  EXPECT_EQ(reports, 0);
}

}  // namespace
}  // namespace loom::dist
