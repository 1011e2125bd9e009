// How the run section's logging keys (run.log_level, run.log_all_ranks) meet
// the command line's logging flags (-v, -q, --log-all-ranks). A flag the
// user typed wins over the config: asking for -v on one run should not
// need an edit of the file.
#pragma once

#include <optional>

#include "loom/config/config.hpp"
#include "loom/core/log.hpp"

namespace loom::config {

// What the command line said about logging.
struct LoggingFlags {
  std::optional<log::Level> level;  // -v: debug, -q: warn; empty when neither was given
  bool all_ranks = false;           // --log-all-ranks; a flag can only turn it on
};

// `base` with its level and all_ranks taken from the flags where they were
// given and from `run` otherwise; its other options pass through.
log::Options run_log_options(const RunConfig& run, const LoggingFlags& flags, log::Options base);

}  // namespace loom::config
