// The `loom` command: parses the command line, sets up logging, runs the
// chosen subcommand, and turns every failure into a message on stderr and a
// documented exit code (see core/exit_codes.hpp).
#include <exception>
#include <sstream>
#include <string>

#include "command.hpp"
#include <CLI/CLI.hpp>

#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/core/versions.hpp"

namespace {

void log_error_lines(const std::string& message) {
  std::istringstream lines(message);
  std::string line;
  while (std::getline(lines, line))
    loom::log::error("{}", line);
}

}  // namespace

int main(int argc, char** argv) {
  using loom::ExitCode;
  CLI::App app{"loom: train small GPT-style language models, from one CPU core to many GPUs"};
  app.set_version_flag("--version", [] { return loom::version_report(); });
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0.
    const int code = app.exit(e);
    return code == 0 ? 0 : loom::to_int(ExitCode::kUsage);
  }

  loom::log::Options log_options;
  log_options.level = verbose ? loom::log::Level::debug
                      : quiet ? loom::log::Level::warn
                              : loom::log::Level::info;
  log_options.all_ranks = all_ranks;
  log_options.timestamps = false;  // the commands so far are quick, read as they finish
  loom::log::configure(log_options);

  try {
    return loom::to_int(selected());
  } catch (const loom::Error& e) {
    log_error_lines(e.what());
    return loom::to_int(e.exit_code());
  } catch (const std::exception& e) {
    log_error_lines(e.what());
    return loom::to_int(ExitCode::kFailure);
  }
}
