// A tiny run for trainer tests: a few kilobytes of generated text prepared
// into a real token store, and a config for a 2-layer, 32-wide GPT that
// trains a step in milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/config/loader.hpp"
#include "loom/data_tools/prepare.hpp"
#include "loom/run/metrics_log.hpp"
#include "loom/train/trainer.hpp"

namespace loom::train::testing {

// Verse-like lines from a fixed word list, so a model has something to learn.
inline std::string tiny_corpus() {
  const std::vector<std::string> words = {"the", "king",  "shall", "speak", "of",   "love",
                                          "and", "night", "my",    "lord",  "fair", "rome"};
  std::string text;
  std::uint64_t state = 42;
  for (int line = 0; line < 600; ++line) {
    const int length = 3 + line % 5;
    for (int w = 0; w < length; ++w) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      text += words[(state >> 33) % words.size()];
      text += w + 1 < length ? " " : (line % 4 == 3 ? ".\n\n" : ",\n");
    }
  }
  return text;
}

// The run's config; `extra` is YAML appended to it, `overrides` are --set
// strings.
inline config::Config tiny_config(const loom::testing::TempDir& dir,
                                  const std::vector<std::string>& overrides = {}) {
  const std::string yaml = fmt::format(R"(
run: {{name: tiny, out_dir: "{0}/runs", seed: 7, threads: 1}}
prepare: {{inputs: ["{0}/corpus.txt"], tokenizer: char, val_fraction: 0.1}}
data: {{store: "{0}/tiny.h5", prefetch: 1}}
model: {{block_size: 16, n_layer: 2, n_head: 2, n_embd: 32, dropout: 0.1}}
optim: {{lr: 3.0e-3, min_lr: 3.0e-4, warmup_iters: 2, lr_decay_iters: 12}}
train: {{max_iters: 12, batch_size: 8, log_interval: 1}}
eval: {{interval: 4, iters: 2, samples: 1, sample_tokens: 8}}
checkpoint: {{interval: 6, keep_last: 2}}
)",
                                       dir.path().string());
  return config::load_config_text(yaml, "tiny.yaml", overrides);
}

// Writes the corpus and its token store once per folder.
inline void prepare_tiny_store(const loom::testing::TempDir& dir) {
  loom::testing::write_file(dir.file("corpus.txt"), tiny_corpus());
  data_tools::PrepareOptions options;
  options.progress = data_tools::ProgressOutput::none;
  data_tools::prepare_corpus(tiny_config(dir), options);
}

// Records what the trainer reports.
struct RecordingObserver : TrainingObserver {
  std::vector<RunStart> starts;
  std::vector<StepReport> steps;
  std::vector<EvalReport> evals;
  std::vector<std::int64_t> checkpoints;
  void on_start(const RunStart& start) override { starts.push_back(start); }
  void on_step(const StepReport& report) override { steps.push_back(report); }
  void on_eval(const EvalReport& report) override { evals.push_back(report); }
  void on_checkpoint(std::int64_t step, const std::string&) override {
    checkpoints.push_back(step);
  }
};

// The "loss" of each training record of a run's metrics.jsonl, by step.
inline std::vector<std::pair<std::int64_t, double>> step_losses(const std::string& run_dir) {
  std::vector<std::pair<std::int64_t, double>> losses;
  for (const nlohmann::json& record : run::read_metrics(run_dir + "/metrics.jsonl")) {
    if (record.contains("loss"))
      losses.emplace_back(record["step"].get<std::int64_t>(), record["loss"].get<double>());
  }
  return losses;
}

}  // namespace loom::train::testing
