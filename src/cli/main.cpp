// The `loom` command: parses the command line, sets up logging, runs the
// chosen subcommand, and turns every failure into a message on stderr and a
// documented exit code (see core/exit_codes.hpp).
#include <exception>
#include <sstream>
#include <string>

#include "command.hpp"
#include "versions.hpp"
#include <CLI/CLI.hpp>

#include "loom/config/config.hpp"
#include "loom/config/run_logging.hpp"
#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/hardware/blas_library.hpp"

namespace loom::cli {
namespace {

// -v, -q and --log-all-ranks as parsed, kept for apply_run_logging.
config::LoggingFlags& command_line_logging() {
  static config::LoggingFlags flags;
  return flags;
}

void log_error_lines(const std::string& message) {
  std::istringstream lines(message);
  std::string line;
  while (std::getline(lines, line))
    log::error("{}", line);
}

// A change of BLAS kernels is news for a training run (it sets the speed);
// for the other commands, whose output scripts read, it is a debug line.
// A warning is always shown.
void log_blas_kernels(const hardware::CoreDecision& decision, bool training) {
  if (decision.message.empty()) return;
  if (decision.warning) {
    log::warn("{}", decision.message);
  } else if (training) {
    log::info("{}", decision.message);
  } else {
    log::debug("{}", decision.message);
  }
}

}  // namespace

void apply_run_logging(const config::RunConfig& run) {
  log::configure(config::run_log_options(run, command_line_logging(), log::options()));
}

}  // namespace loom::cli

int main(int argc, char** argv) {
  using loom::ExitCode;
  // Before anything else: this may execute `loom` again with OpenBLAS's
  // kernels chosen (hardware/openblas_core.hpp).
  const loom::hardware::CoreDecision blas_kernels = loom::hardware::choose_openblas_core(argv);
  CLI::App app{"loom: train small GPT-style language models, from one CPU core to many GPUs"};
  app.set_version_flag("--version", [] { return loom::cli::version_report(); });
  app.require_subcommand(1);

  bool verbose = false;
  bool quiet = false;
  bool all_ranks = false;
  app.add_flag("-v,--verbose", verbose, "print debug lines");
  app.add_flag("-q,--quiet", quiet, "print warnings and errors only");
  app.add_flag("--log-all-ranks", all_ranks, "print info lines from every rank, not only rank 0");

  loom::cli::Command selected;
  loom::cli::add_config_command(app, selected);
  loom::cli::add_prepare_command(app, selected);
  loom::cli::add_inspect_command(app, selected);
  loom::cli::add_plot_command(app, selected);
  loom::cli::add_train_command(app, selected);
  loom::cli::add_sample_command(app, selected);
  loom::cli::add_eval_command(app, selected);
  loom::cli::add_export_command(app, selected);
  loom::cli::add_serve_command(app, selected);
  loom::cli::add_doctor_command(app, selected);
  loom::cli::add_verify_command(app, selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    const int code = app.exit(e);
    return code == 0 ? 0 : loom::to_int(ExitCode::kUsage);
  }

  loom::config::LoggingFlags& flags = loom::cli::command_line_logging();
  if (verbose) {
    flags.level = loom::log::Level::debug;
  } else if (quiet) {
    flags.level = loom::log::Level::warn;
  }
  flags.all_ranks = all_ranks;
  loom::log::Options log_options;
  log_options.timestamps = false;  // the commands so far are quick, read as they finish
  loom::log::configure(
      loom::config::run_log_options(loom::config::RunConfig{}, flags, log_options));
  loom::cli::log_blas_kernels(blas_kernels, app.got_subcommand("train"));

  try {
    return loom::to_int(selected());
  } catch (const loom::Error& e) {
    loom::cli::log_error_lines(e.what());
    return loom::to_int(e.exit_code());
  } catch (const std::exception& e) {
    loom::cli::log_error_lines(e.what());
    return loom::to_int(ExitCode::kFailure);
  }
}
