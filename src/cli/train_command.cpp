// `loom train CONFIG [--set key=value ...]`: trains one run into
// <run.out_dir>/<run.name>, continuing it when it has a checkpoint.
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "command.hpp"
#include "training_progress.hpp"
#include <fmt/format.h>
#include <unistd.h>

#include "loom/config/loader.hpp"
#include "loom/core/log.hpp"
#include "loom/train/stop_signals.hpp"
#include "loom/train/trainer.hpp"

namespace loom::cli {
namespace {

struct TrainArgs {
  std::string config_file;
  std::vector<std::string> overrides;
  bool no_progress_bar = false;
};

ExitCode run_train(const TrainArgs& args) {
  const config::Config config = config::load_config_file(args.config_file, args.overrides);
  apply_run_logging(config.run);
  log::Options options = log::options();
  options.timestamps = true;  // a run lasts long enough for times to matter
  log::configure(options);

  const bool terminal = !args.no_progress_bar && isatty(STDOUT_FILENO) == 1;
  TrainingProgress progress(terminal, config.train.log_interval);
  // Installed for the rest of the process and never restored: a stop signal
  // that arrives once the run is complete and saved, while the process winds
  // down (MPI, LibTorch's threads), must not kill it; SLURM would record the
  // finished job as failed. (Seen: SIGUSR1 from `sbatch --signal` 2 s after
  // the last step, exit 138.) Built in static storage and never destroyed:
  // a heap object never freed would be a leak to LeakSanitizer, while what
  // static storage points to is still reachable at exit.
  alignas(train::StopSignals) static unsigned char stop_signals[sizeof(train::StopSignals)];
  new (stop_signals) train::StopSignals(config.train.stop_signals);
  const train::TrainResult result = train::train(config, progress);
  progress.finish();

  if (result.stop_reason == train::StopReason::diverged) {
    log::error("stopped after step {}: {}", result.final_step, result.stop_message);
    return ExitCode::kDiverged;
  }
  if (result.stop_reason != train::StopReason::none) {
    log::info("stopped by {} after step {}; a checkpoint is saved: run the same command to go on",
              result.stop_message, result.final_step);
    return ExitCode::kStopped;
  }

  if (result.start_step == result.final_step) {
    log::info("{} is already trained to train.max_iters {}; raise it to train further",
              result.run_dir, result.final_step);
  } else {
    log::info("trained steps {}..{}; {}: final val loss {}", result.start_step + 1,
              result.final_step, result.run_dir,
              result.final_val_loss ? fmt::format("{:.4f}", *result.final_val_loss) : "n/a");
  }
  log::info("sample it: loom sample {} --prompt \"...\"", result.run_dir);
  return ExitCode::kOk;
}

}  // namespace

void add_train_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* command = app.add_subcommand(
      "train", "train a model as a config says, continuing its run when it has a checkpoint");
  command->add_option("config", args->config_file, "run config (YAML)")->required();
  command->add_option("--set", args->overrides,
                      "override a config key, e.g. --set optim.lr=3e-4 (repeatable)");
  command->add_flag("--no-progress-bar", args->no_progress_bar,
                    "print plain progress lines even on a terminal");
  command->callback([&selected, args] { selected = [args] { return run_train(*args); }; });
}

}  // namespace loom::cli
