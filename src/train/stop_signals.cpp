#include "loom/train/stop_signals.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/config/config.hpp"
#include "loom/core/error.hpp"

namespace loom::train {
namespace {

volatile std::sig_atomic_t requested_signal = 0;

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

int stop_signal_number(const std::string& name) {
  static constexpr std::pair<const char*, int> kNumbers[] = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},
      {"SIGHUP", SIGHUP},   {"SIGQUIT", SIGQUIT}, {"SIGXCPU", SIGXCPU}};
  static_assert(std::size(kNumbers) == std::size(config::kStopSignalNames));
  for (const auto& [known, number] : kNumbers)
    if (name == known) return number;
  throw UsageError(fmt::format("train.stop_signals: '{}' is not one of {}", name,
                               fmt::join(config::kStopSignalNames, ", ")));
}

StopSignals::StopSignals(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const int number = stop_signal_number(name);
    // Installed twice, the second would save our own handler as "previous".
    if (std::find(signals_.begin(), signals_.end(), number) == signals_.end())
      signals_.push_back(number);
  }
  requested_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a write interrupted mid-checkpoint resumes
  previous_.resize(signals_.size());
  for (std::size_t i = 0; i < signals_.size(); ++i)
    sigaction(signals_[i], &action, &previous_[i]);
}

StopSignals::~StopSignals() {
  for (std::size_t i = 0; i < signals_.size(); ++i)
    sigaction(signals_[i], &previous_[i], nullptr);
}

int StopSignals::requested() {
  return requested_signal;
}

}  // namespace loom::train
