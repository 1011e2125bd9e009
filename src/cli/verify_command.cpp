// `loom verify RUN_DIR | STORE.h5`: reads every checkpoint of a run, or
// every dataset of a token store, in full against the sizes and CRC-32s
// recorded when they were written, and says which are good, which are
// damaged and why, and which have no checksums to check (written by an
// earlier Loom). Exit code 0 only when everything checked is good:
// kDamaged (6) when anything is damaged, else kUnverified (7) when
// something has no checksums. Nothing is changed on disk.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/data/store_verification.hpp"
#include "loom/run_dir/checkpoint_verification.hpp"

namespace loom::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct VerifyArgs {
  std::string path;
};

// Good, damaged, unchecked: what each item came out as.
struct Tally {
  std::size_t good = 0;
  std::size_t damaged = 0;
  std::size_t unchecked = 0;

  ExitCode exit_code() const {
    if (damaged > 0) return ExitCode::kDamaged;
    if (unchecked > 0) return ExitCode::kUnverified;
    return ExitCode::kOk;
  }
};

// "checked 12.3 MB in 0.05 s (246 MB/s)"
std::string throughput(std::uint64_t bytes, Clock::time_point started) {
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const double megabytes = static_cast<double>(bytes) / 1e6;
  return fmt::format("checked {:.1f} MB in {:.2f} s ({:.0f} MB/s)", megabytes, seconds,
                     seconds > 0 ? megabytes / seconds : 0.0);
}

const char* health_name(run_dir::CheckpointHealth health) {
  switch (health) {
    case run_dir::CheckpointHealth::good:
      return "good";
    case run_dir::CheckpointHealth::no_checksums:
      return "no checksums";
    case run_dir::CheckpointHealth::damaged:
      break;
  }
  return "damaged";
}

ExitCode verify_run(const fs::path& run, const fs::path& checkpoints) {
  const Clock::time_point started = Clock::now();
  const std::vector<run_dir::CheckpointCheck> checks = run_dir::verify_checkpoints(checkpoints);
  Tally tally;
  std::uint64_t bytes = 0;
  std::cout << fmt::format("{}: {} checkpoint folder{}\n", run.string(), checks.size(),
                           checks.size() == 1 ? "" : "s");
  for (const run_dir::CheckpointCheck& check : checks) {
    bytes += check.bytes_read;
    const std::string detail =
        check.health == run_dir::CheckpointHealth::good
            ? fmt::format("{} files, {} bytes", check.files, check.bytes_read)
            : check.problem;
    std::cout << fmt::format("  step {:<8} {:<13} {}: {}\n", check.checkpoint.step,
                             health_name(check.health), check.checkpoint.dir.filename().string(),
                             detail);
    (check.health == run_dir::CheckpointHealth::good      ? tally.good
     : check.health == run_dir::CheckpointHealth::damaged ? tally.damaged
                                                          : tally.unchecked) += 1;
  }
  // Already passed over by a resume: not checkpoints of the run any more,
  // listed so that nobody wonders what they are.
  for (const run_dir::Checkpoint& aside : run_dir::set_aside_checkpoints(checkpoints)) {
    std::cout << fmt::format(
        "  step {:<8} {:<13} {}: set aside by a resume that passed it over; "
        "not resumed from, kept for you to look at\n",
        aside.step, "set aside", aside.dir.filename().string());
  }
  std::cout << fmt::format("{}; {} good, {} damaged, {} without checksums\n",
                           throughput(bytes, started), tally.good, tally.damaged, tally.unchecked);
  return tally.exit_code();
}

ExitCode verify_store(const std::string& path) {
  const Clock::time_point started = Clock::now();
  const data::StoreCheck check = data::verify_store(path);
  if (!check.has_checksums) {
    std::cout << fmt::format(
        "{}: no checksums: written by a Loom before token stores recorded them; nothing "
        "checked (`loom prepare --force` writes it again with them)\n",
        path);
    return ExitCode::kUnverified;
  }
  Tally tally;
  std::cout << fmt::format("{}: token store, {} datasets with checksums\n", path,
                           check.datasets.size());
  for (const data::DatasetCheck& dataset : check.datasets) {
    std::cout << fmt::format(
        "  {:<20} {:<8} {}\n", dataset.dataset, dataset.problem.empty() ? "good" : "damaged",
        dataset.problem.empty() ? fmt::format("{} bytes", dataset.bytes) : dataset.problem);
    (dataset.problem.empty() ? tally.good : tally.damaged) += 1;
  }
  std::cout << fmt::format("{}; {} good, {} damaged\n", throughput(check.bytes_read, started),
                           tally.good, tally.damaged);
  return tally.exit_code();
}

ExitCode run_verify(const VerifyArgs& args) {
  const fs::path path(args.path);
  std::error_code error;
  if (fs::is_regular_file(path, error)) return verify_store(args.path);
  if (fs::is_directory(path / "checkpoints", error)) return verify_run(path, path / "checkpoints");
  throw UsageError(fmt::format(
      "{}: neither a token store (a .h5 file) nor a run directory (it has no checkpoints/ folder)",
      args.path));
}

}  // namespace

void add_verify_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* command = app.add_subcommand(
      "verify",
      "check a run's checkpoints or a token store's data against their recorded checksums "
      "(exit 0: all good, 6: damaged, 7: no checksums to check)");
  command->add_option("path", args->path, "run directory, or token store (.h5)")->required();
  command->callback([&selected, args] { selected = [args] { return run_verify(*args); }; });
}

}  // namespace loom::cli
