// Private to the `loom` command: how subcommands plug into main. Each
// subcommand's file registers its CLI11 options and, when the user picks it,
// leaves in `selected` the function that does the work and returns the exit
// code. main parses, then runs that function inside one error handler.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "loom/core/exit_codes.hpp"

namespace loom::config {
struct RunConfig;
}

namespace loom::cli {

using Command = std::function<ExitCode()>;

void add_config_command(CLI::App& app, Command& selected);
void add_prepare_command(CLI::App& app, Command& selected);
void add_inspect_command(CLI::App& app, Command& selected);
void add_plot_command(CLI::App& app, Command& selected);
void add_train_command(CLI::App& app, Command& selected);
void add_sample_command(CLI::App& app, Command& selected);
void add_eval_command(CLI::App& app, Command& selected);
void add_export_command(CLI::App& app, Command& selected);
void add_serve_command(CLI::App& app, Command& selected);
void add_doctor_command(CLI::App& app, Command& selected);
void add_verify_command(CLI::App& app, Command& selected);

// Logs as a loaded config's run.log_level and run.log_all_ranks say, except
// where the command line gave -v/-q or --log-all-ranks: those win. A command
// that loads a run config calls it right after loading; until then the run
// section's defaults apply (defined in main.cpp, which holds the flags).
void apply_run_logging(const config::RunConfig& run);

}  // namespace loom::cli
