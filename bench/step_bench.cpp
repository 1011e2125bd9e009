// loom-bench-step: which way of running one CPU training step is fastest?
// The CPU trainer has to beat nanoGPT's train.py on the same LibTorch, so
// this times Loom's real model (make_model), loss, AdamW (make_adamw) and
// clip_grad_norm, one way per variant (step_variants.hpp lists them), each
// from the same initial weights and the same random token batches:
//
//   loom-bench-step [--config small|full] [--steps N] [--warmup N] [--turn N]
//                   [--variant NAME]... [--tuned-malloc] [--dropout P]
//
// This file is the command line and the table. The variants take turns,
// --turn steps each, so that the load of a shared machine falls on all of
// them alike. --tuned-malloc sets glibc's mmap and trim thresholds for the
// whole run (mallopt cannot be undone). It prints a markdown table: ms per
// step (median, min), its forward+backward and optimizer parts, CPU time per
// wall time, minor page faults per step, the last loss and how far the final
// weights are from the first variant's. It never fails on time. The full
// config holds about 1 GB per variant: run its variants one by one.
#include <algorithm>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "step_variants.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <torch/torch.h>

namespace {

using loom::bench::StepTimes;
using loom::bench::Variant;
using loom::bench::VariantRun;

struct BenchOptions {
  std::string config = "small";
  int steps = 30;
  int warmup = 5;
  int turn = 5;         // steps a variant runs before the next one's turn
  double dropout = -1;  // < 0: the config's
  bool tuned_malloc = false;
  std::uint64_t seed = 1337;
  std::vector<std::string> variants;
};

std::string proc_line(const char* path, const char* prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "?";
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

template <class Field>
std::vector<double> column(const std::vector<StepTimes>& steps, Field field) {
  std::vector<double> values;
  for (const StepTimes& step : steps)
    values.push_back(static_cast<double>(step.*field));
  return values;
}

// Largest weight difference against the reference run, relative to the
// reference's largest weight. Both list the parameters in the same order.
double weight_difference(const VariantRun& run, const VariantRun& reference) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < reference.weights().size(); ++i) {
    const torch::Tensor& w = reference.weights()[i];
    diff = std::max(diff, (run.weights()[i] - w).abs().max().item<double>());
    scale = std::max(scale, w.abs().max().item<double>());
  }
  return diff / scale;
}

void print_table(const std::vector<std::unique_ptr<VariantRun>>& runs) {
  fmt::print(
      "| variant | ms/step median | min | fwd+bwd median | optimizer median | CPU/wall "
      "| minflt/step | last loss | max dw / max w vs {} |\n",
      runs.front()->variant().name);
  fmt::print("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& run : runs) {
    const auto& s = run->steps();
    const std::vector<double> totals = column(s, &StepTimes::total);
    const std::string difference =
        run == runs.front() ? "-" : fmt::format("{:.2e}", weight_difference(*run, *runs.front()));
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {:.0f} | {:.6f} | {} |\n",
               run->variant().name, 1e3 * median(totals),
               1e3 * *std::min_element(totals.begin(), totals.end()),
               1e3 * median(column(s, &StepTimes::forward_backward)),
               1e3 * median(column(s, &StepTimes::optimizer)),
               median(column(s, &StepTimes::cpu)) / median(totals),
               median(column(s, &StepTimes::faults)), run->last_loss(), difference);
  }
  fmt::print("\n");
  for (const auto& run : runs) {
    if (!run->notes().empty()) fmt::print("- {}: {}\n", run->variant().name, run->notes());
  }
}

void run(const BenchOptions& options) {
  if (options.tuned_malloc) {
    // Keep freed blocks up to 32 MB in the heap instead of unmapping them, and
    // trim the heap only past 256 MB free, so that each step reuses the pages
    // the last one faulted in. It cannot be undone, hence a flag for the run.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
  }
  loom::bench::Shape shape = loom::bench::make_shape(options.config);
  if (options.dropout >= 0) shape.model.dropout = options.dropout;
  fmt::print(
      "loom-bench-step: config {} (layers {}, heads {}, width {}, block {}, batch {}, "
      "dropout {}), malloc {}, {} warm-up + {} timed steps, {} per turn, seed {}\n",
      options.config, shape.model.n_layer, shape.model.n_head, shape.model.n_embd,
      shape.model.block_size, shape.batch, shape.model.dropout,
      options.tuned_malloc ? "tuned" : "default", options.warmup, options.steps, options.turn,
      options.seed);
  fmt::print("load average at start: {}\n\n", proc_line("/proc/loadavg", ""));
  const int total_steps = options.warmup + options.steps;
  const std::vector<loom::bench::Batch> batches =
      loom::bench::make_batches(shape, total_steps, options.seed + 1);

  std::vector<std::unique_ptr<VariantRun>> runs;
  for (const Variant& variant : loom::bench::kVariants) {
    const auto& wanted = options.variants;
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), variant.name) != wanted.end())
      runs.push_back(std::make_unique<VariantRun>(shape, variant, options.seed));
  }
  for (int first = 0; first < total_steps; first += options.turn) {
    for (const auto& run : runs) {
      for (int step = first; step < std::min(first + options.turn, total_steps); ++step)
        run->step(batches[static_cast<std::size_t>(step)], step >= options.warmup);
    }
  }
  print_table(runs);
  fmt::print("{}; load average at end: {}\n", proc_line("/proc/self/status", "Threads:"),
             proc_line("/proc/loadavg", ""));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times one CPU training step of Loom's GPT, several ways"};
  BenchOptions options;
  app.add_option("--config", options.config, "model and batch: small or full")
      ->check(CLI::IsMember({"small", "full"}));
  app.add_option("--steps", options.steps, "timed steps per variant")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--turn", options.turn, "steps a variant runs before the next one's turn")
      ->check(CLI::PositiveNumber);
  app.add_option("--dropout", options.dropout, "override the config's dropout");
  app.add_flag("--tuned-malloc", options.tuned_malloc,
               "mallopt: 32 MB mmap threshold, 256 MB trim threshold");
  app.add_option("--seed", options.seed, "weights and batches");
  std::vector<std::string> names;
  for (const Variant& variant : loom::bench::kVariants)
    names.emplace_back(variant.name);
  app.add_option("--variant", options.variants, "run only these (default: all, in table order)")
      ->check(CLI::IsMember(names));
  CLI11_PARSE(app, argc, argv);
  try {
    run(options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "loom-bench-step: {}\n", e.what());
    return 1;
  }
  return 0;
}
