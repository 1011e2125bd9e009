// Rank-aware logging. Every line carries a timestamp and a level; debug and
// info lines come from rank 0 only unless all ranks are asked for, while
// warnings and errors come from every rank (an error on rank 3 must not
// vanish), prefixed with the rank whenever more than one is running.
// Debug and info go to stdout, warnings and errors to stderr.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace loom::log {

enum class Level { debug, info, warn, error };

struct Options {
  Level level = Level::info;
  bool all_ranks = false;  // info/debug from every rank, not only rank 0
  bool timestamps = true;  // off in tests that compare output
};

// Sets who this process is; until called, the rank comes from the launcher's
// environment variables (see core/launch_env.hpp).
void set_rank(int rank, int world_size);
void configure(const Options& options);
const Options& options();

bool enabled(Level level);
void write(Level level, std::string_view message);

// Formats one line as it would be written, without the timestamp. Exposed
// for tests.
std::string format_line(Level level, std::string_view message, int rank, int world_size);

template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace loom::log
