#include "loom/core/launch_env.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom {
namespace {

std::optional<int> read_int(const char* name) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') return std::nullopt;
  const std::string_view text(raw);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw UsageError(
        fmt::format("environment variable {}='{}' is not a non-negative integer", name, text));
  }
  return value;
}

struct Names {
  Launcher launcher;
  const char* name;
  const char* rank;
  const char* world_size;
  const char* local_rank;
  const char* local_size;
};

constexpr Names kLaunchers[] = {
    {Launcher::openmpi, "openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
    {Launcher::env, "env", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"},
    {Launcher::slurm, "slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID",
     "SLURM_NTASKS_PER_NODE"},
};

}  // namespace

const char* launcher_name(Launcher launcher) {
  for (const Names& names : kLaunchers)
    if (names.launcher == launcher) return names.name;
  return "none";
}

LaunchEnv detect_launch_env() {
  for (const Names& names : kLaunchers) {
    // SLURM's variables describe a task of a job step (srun) only: the
    // batch script itself has SLURM_PROCID=0 too, but no step, and is one
    // process whatever the job's task count.
    if (names.launcher == Launcher::slurm && std::getenv("SLURM_STEP_ID") == nullptr) continue;
    const std::optional<int> rank = read_int(names.rank);
    if (!rank) continue;
    const std::optional<int> world_size = read_int(names.world_size);
    if (!world_size) {
      throw UsageError(fmt::format("{} is set but {} is not", names.rank, names.world_size));
    }
    if (*rank >= *world_size) {
      throw UsageError(fmt::format("{}={} is not below {}={}", names.rank, *rank, names.world_size,
                                   *world_size));
    }
    LaunchEnv env;
    env.rank = *rank;
    env.world_size = *world_size;
    const std::optional<int> local_rank = read_int(names.local_rank);
    env.local_rank = local_rank.value_or(0);
    env.local_rank_known = local_rank.has_value() || *world_size == 1;
    // Unknown: assume the ranks share the node, the safe side for thread counts.
    env.local_world_size = read_int(names.local_size).value_or(*world_size);
    env.launcher = names.launcher;
    return env;
  }
  return LaunchEnv{};
}

}  // namespace loom
