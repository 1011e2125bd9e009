#include "loom/core/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "loom/core/launch_env.hpp"

namespace loom::log {
namespace {

struct State {
  Options options;
  int rank = 0;
  int world_size = 1;
  std::mutex mutex;

  State() {
    // Best effort before the communicator exists: a malformed launcher
    // variable is reported later, by whoever needs the real rank.
    try {
      const LaunchEnv env = detect_launch_env();
      rank = env.rank;
      world_size = env.world_size;
    } catch (const std::exception&) {
    }
  }
};

State& state() {
  static State instance;
  return instance;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warning";
    case Level::error:
      return "error";
  }
  return "?";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&seconds, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &local);
  return buffer;
}

}  // namespace

void set_rank(int rank, int world_size) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().rank = rank;
  state().world_size = world_size;
}

void configure(const Options& options) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().options = options;
}

const Options& options() {
  return state().options;
}

bool enabled(Level level) {
  const State& s = state();
  if (level < s.options.level) return false;
  if (level >= Level::warn) return true;
  return s.rank == 0 || s.options.all_ranks;
}

std::string format_line(Level level, std::string_view message, int rank, int world_size) {
  std::string line;
  if (world_size > 1) line += fmt::format("[rank {}] ", rank);
  if (level != Level::info) line += fmt::format("{}: ", level_name(level));
  line += message;
  return line;
}

void write(Level level, std::string_view message) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::string line = format_line(level, message, s.rank, s.world_size);
  if (s.options.timestamps) line = fmt::format("[{}] {}", timestamp(), line);
  line += '\n';
  std::FILE* stream = level >= Level::warn ? stderr : stdout;
  std::fwrite(line.data(), 1, line.size(), stream);
  std::fflush(stream);
}

}  // namespace loom::log
