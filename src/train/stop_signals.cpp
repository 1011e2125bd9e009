#include "loom/train/stop_signals.hpp"

#include <csignal>
#include <iterator>

namespace loom::train {
namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGUSR1};
volatile std::sig_atomic_t requested_signal = 0;
struct sigaction previous[sizeof(kStopSignals) / sizeof(kStopSignals[0])];

void on_stop_signal(int signal) {
  if (signal == SIGINT && requested_signal == SIGINT) {
    // The second Ctrl-C: no checkpoint, no waiting.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  requested_signal = signal;
}

}  // namespace

StopSignals::StopSignals() {
  requested_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a write interrupted mid-checkpoint resumes
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i)
    sigaction(kStopSignals[i], &action, &previous[i]);
}

StopSignals::~StopSignals() {
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i)
    sigaction(kStopSignals[i], &previous[i], nullptr);
}

int StopSignals::requested() {
  return requested_signal;
}

}  // namespace loom::train
