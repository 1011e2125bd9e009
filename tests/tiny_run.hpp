// A tiny training run shared by the trainer's tests and the CLI's: a few
// kilobytes of generated verse and the YAML config of a 2-layer, 32-wide
// GPT that trains a step in milliseconds. The run directory is
// <folder>/runs/tiny, the store <folder>/tiny.h5, the corpus
// <folder>/corpus.txt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/run_dir/metrics_log.hpp"

namespace loom::test {

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

// 12 steps of 8 sequences of 16 characters, dropout on, evaluations every 4
// steps with one 8-token sample, checkpoints every 6.
inline std::string tiny_run_yaml(const std::string& folder) {
  return fmt::format(R"(
run: {{name: tiny, out_dir: "{0}/runs", seed: 7, threads: 1}}
prepare: {{inputs: ["{0}/corpus.txt"], tokenizer: char, val_fraction: 0.1}}
data: {{store: "{0}/tiny.h5", prefetch: 1}}
model: {{block_size: 16, n_layer: 2, n_head: 2, n_embd: 32, dropout: 0.1}}
optim: {{lr: 3.0e-3, min_lr: 3.0e-4, warmup_iters: 2, lr_decay_iters: 12}}
train: {{max_iters: 12, batch_size: 8, log_interval: 1}}
eval: {{interval: 4, iters: 2, samples: 1, sample_tokens: 8}}
checkpoint: {{interval: 6, keep_last: 2}}
)",
                     folder);
}

// The loss of every training record in a run's metrics.jsonl at
// `metrics_path`, in order; none while the file does not exist yet.
inline std::vector<double> logged_losses(const std::string& metrics_path) {
  std::vector<double> losses;
  if (!std::filesystem::exists(metrics_path)) return losses;
  for (const nlohmann::json& record : run_dir::read_metrics(metrics_path))
    if (record.contains("loss")) losses.push_back(record["loss"].get<double>());
  return losses;
}

// Writes the corpus and the config (at `config_path`) into `folder`, and
// prepares the store with the built `loom prepare`, as a user would.
inline CommandResult prepare_tiny_run_with_loom(const std::string& folder,
                                                const std::string& config_path) {
  write_file(folder + "/corpus.txt", tiny_corpus());
  write_file(config_path, tiny_run_yaml(folder));
  return run_loom("prepare '" + config_path + "'");
}

// prepare_tiny_run_with_loom, then `loom train` on it: a finished 12-step
// run at <folder>/runs/tiny, for tests of what comes after training. The
// result is the first command that failed, or the training's.
inline CommandResult train_tiny_run_with_loom(const std::string& folder,
                                              const std::string& config_path) {
  const CommandResult prepared = prepare_tiny_run_with_loom(folder, config_path);
  if (prepared.exit_code != 0) return prepared;
  return run_loom("train '" + config_path + "'");
}

// A fixture whose every test starts from a finished tiny run, trained by
// the built `loom` in a folder of its own.
class TinyRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CommandResult trained = train_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
  const std::string run_ = dir_.file("runs/tiny");
};

}  // namespace loom::test
