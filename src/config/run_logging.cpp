#include "loom/config/run_logging.hpp"

namespace loom::config {

log::Options run_log_options(const RunConfig& run, const LoggingFlags& flags, log::Options base) {
  base.level = flags.level.value_or(run.log_level);
  base.all_ranks = flags.all_ranks || run.log_all_ranks;
  return base;
}

}  // namespace loom::config
