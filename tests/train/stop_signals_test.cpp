// Stop signals: the configured ones raise the flag instead of ending the
// process, the others keep their default action, and the previous handlers
// come back afterwards.
#include "loom/train/stop_signals.hpp"

#include <csignal>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::train {
namespace {

using namespace loom::test;

TEST(StopSignals, OnlyTheConfiguredSignalsRaiseTheFlag) {
  {
    const StopSignals stop({"SIGUSR2", "SIGHUP", "SIGUSR2"});
    EXPECT_EQ(StopSignals::requested(), 0);
    std::raise(SIGHUP);
    EXPECT_EQ(StopSignals::requested(), SIGHUP);
    std::raise(SIGUSR2);
    EXPECT_EQ(StopSignals::requested(), SIGUSR2);
    struct sigaction current {};
    sigaction(SIGUSR1, nullptr, &current);
    EXPECT_EQ(current.sa_handler, SIG_DFL);  // not configured: untouched
  }
  for (const int signal : {SIGUSR2, SIGHUP}) {
    struct sigaction restored {};
    sigaction(signal, nullptr, &restored);
    EXPECT_EQ(restored.sa_handler, SIG_DFL) << signal;
  }
  const StopSignals fresh;  // the default set; the flag starts down again
  EXPECT_EQ(StopSignals::requested(), 0);
}

TEST(StopSignals, UnknownNamesAreRefused) {
  EXPECT_EQ(stop_signal_number("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(error_message<UsageError>([] {
              StopSignals stop({"SIGTERM", "SIGKILL"});
            }),
            "train.stop_signals: 'SIGKILL' is not one of SIGTERM, SIGINT, SIGUSR1, SIGUSR2, "
            "SIGHUP, SIGQUIT, SIGXCPU");
}

}  // namespace
}  // namespace loom::train
