// `loom plot RUN [RUN...]`: the loss curves of one run, or several overlaid
// (a transformer against the LSTM baseline), as an SVG picture.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/run_dir/loss_plot.hpp"
#include "loom/run_dir/metrics_log.hpp"

namespace loom::cli {
namespace {

namespace fs = std::filesystem;

struct PlotArgs {
  std::vector<std::string> runs;
  std::string out;
  std::string title;
};

// A run directory holding metrics.jsonl, or the metrics file itself.
fs::path metrics_file(const std::string& run) {
  const fs::path path(run);
  if (fs::is_directory(path)) return path / "metrics.jsonl";
  return path;
}

std::string run_name(const std::string& run) {
  fs::path path = fs::path(run).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();  // "runs/x/"
  if (!fs::is_directory(path)) path = path.parent_path();  // "runs/x/metrics.jsonl"
  const std::string name = path.filename().string();
  return name.empty() ? run : name;
}

ExitCode run_plot(const PlotArgs& args) {
  std::vector<run_dir::LossCurves> curves;
  for (const std::string& run : args.runs) {
    const fs::path metrics = metrics_file(run);
    if (!fs::exists(metrics)) {
      throw UsageError(
          fmt::format("{}: no metrics.jsonl there; give a run directory or its "
                      "metrics file",
                      run));
    }
    curves.push_back(
        run_dir::curves_from_metrics(run_dir::read_metrics(metrics.string()), run_name(run)));
  }
  std::string out = args.out;
  if (out.empty()) {
    // One run: beside its metrics file, which is in the run directory.
    out = args.runs.size() == 1 ? (metrics_file(args.runs[0]).parent_path() / "loss.svg").string()
                                : "loss.svg";
  }
  std::string title = args.title;
  if (title.empty()) {
    for (const run_dir::LossCurves& c : curves)
      title += (title.empty() ? "" : " vs ") + c.run_name;
  }
  run_dir::write_loss_svg(out, curves, title);
  std::cout << "wrote " << out << "\n";
  return ExitCode::kOk;
}

}  // namespace

void add_plot_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* command = app.add_subcommand(
      "plot", "draw train and val loss of runs as an SVG, overlaid when several");
  command->add_option("runs", args->runs, "run directories (or their metrics.jsonl files)")
      ->required();
  command->add_option("-o,--out", args->out,
                      "SVG to write; default RUN/loss.svg for one run, ./loss.svg for several");
  command->add_option("--title", args->title, "picture title; default the run names");
  command->callback([&selected, args] { selected = [args] { return run_plot(*args); }; });
}

}  // namespace loom::cli
