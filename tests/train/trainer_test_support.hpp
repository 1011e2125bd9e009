// The tiny run of tiny_run.hpp, for in-process trainer tests: its corpus
// prepared into a real token store, its config loaded, and an observer that
// records what the trainer reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/config/loader.hpp"
#include "loom/data_tools/prepare.hpp"
#include "loom/run_dir/metrics_log.hpp"
#include "loom/train/trainer.hpp"

namespace loom::test {

// The run's config, with `overrides` as --set strings.
inline config::Config tiny_run_config(const TempDir& dir,
                                      const std::vector<std::string>& overrides = {}) {
  return config::load_config_text(tiny_run_yaml(dir.path().string()), "tiny.yaml", overrides);
}

// Writes the corpus and its token store once per folder.
inline void prepare_tiny_store(const TempDir& dir) {
  write_file(dir.file("corpus.txt"), tiny_corpus());
  data_tools::PrepareOptions options;
  options.progress = data_tools::ProgressOutput::none;
  data_tools::prepare_corpus(tiny_run_config(dir), options);
}

// Records what the trainer reports.
struct RecordingObserver : train::TrainingObserver {
  std::vector<train::RunStart> starts;
  std::vector<train::StepReport> steps;
  std::vector<train::EvalReport> evals;
  std::vector<std::int64_t> checkpoints;
  void on_start(const train::RunStart& start) override { starts.push_back(start); }
  void on_step(const train::StepReport& report) override { steps.push_back(report); }
  void on_eval(const train::EvalReport& report) override { evals.push_back(report); }
  void on_checkpoint(std::int64_t step, const std::string&) override {
    checkpoints.push_back(step);
  }
};

// The "loss" of each training record of a run's metrics.jsonl, by step.
inline std::vector<std::pair<std::int64_t, double>> step_losses(const std::string& run_dir) {
  std::vector<std::pair<std::int64_t, double>> losses;
  for (const nlohmann::json& record : run_dir::read_metrics(run_dir + "/metrics.jsonl")) {
    if (record.contains("loss"))
      losses.emplace_back(record["step"].get<std::int64_t>(), record["loss"].get<double>());
  }
  return losses;
}

}  // namespace loom::test
