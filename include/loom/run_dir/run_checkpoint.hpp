// What one checkpoint of a training run holds, and how it is read back.
// CheckpointStore (checkpoint_store.hpp) makes a folder appear atomically;
// this file decides what goes in it:
//
//   model.pt        the model's parameters and buffers (torch::save)
//   optimizer.pt    AdamW's state: moments and step counts (torch::save)
//   rng.pt          torch's CPU generator state, and each CUDA generator's
//   state.json      optimizer steps done, best validation loss, loss-scaler
//                   state, training seconds so far, world size, config fingerprint
//   config.yaml     the resolved config the run had when it wrote this
//   tokenizer.json  the tokenizer the ids mean
//
// With config.yaml and tokenizer.json inside, a checkpoint folder stands on
// its own: `loom sample` and `loom eval` need nothing else. The sampler has
// no state of its own to save: step k's batch is a function of k and the
// config (docs/ARCHITECTURE.md, invariant 1), so `step` is the data position.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>

#include "loom/config/config.hpp"
#include "loom/run_dir/loss_scaler_state.hpp"

namespace loom::run_dir {

struct TrainingState {
  std::int64_t step = 0;  // optimizer steps done
  double best_val_loss = std::numeric_limits<double>::infinity();
  LossScalerState loss_scaler;
  double train_seconds = 0;  // wall time spent training so far, over all sessions
  std::int64_t world_size = 1;
  std::string config_fingerprint;
};

// A short stable hash of every key of the config ("c3f1...", 16 hex digits),
// so two runs can be told apart at a glance.
std::string config_fingerprint(const config::Config& config);

// The keys whose values differ between two configs, as "section.key: old ->
// new" lines in schema order.
std::vector<std::string> config_differences(const config::Config& before,
                                            const config::Config& after);

// The model keys that change the shape or meaning of the weights: every key
// of the model section but dropout, plus the vocabulary size. Returns one
// "model.n_layer: checkpoint 4, config 6" line per difference.
std::vector<std::string> model_shape_differences(const config::ModelConfig& saved,
                                                 std::int64_t saved_vocab,
                                                 const config::ModelConfig& current,
                                                 std::int64_t current_vocab);

// Everything write_run_checkpoint saves.
struct CheckpointContents {
  const config::Config& config;
  const nlohmann::json& tokenizer;
  torch::nn::Module& model;
  torch::optim::Optimizer& optimizer;
  const TrainingState& state;
};

// Fills `dir` (CheckpointStore's temporary folder) with the files above.
void write_run_checkpoint(const std::filesystem::path& dir, const CheckpointContents& contents);

// The small files of a checkpoint, read without loading any tensor.
struct CheckpointInfo {
  std::filesystem::path dir;
  config::Config config;
  nlohmann::json tokenizer;
  TrainingState state;
  std::int64_t vocab_size = 0;  // from the tokenizer
};

// Throws CheckpointError naming the file when one is missing or malformed.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& dir);

// Load the tensors into a model and optimizer built for the checkpoint's
// config. Throw CheckpointError naming the file when it cannot be read.
void load_model_weights(const std::filesystem::path& dir, torch::nn::Module& model);
// The optimizer state is read by Loom rather than by torch::optim's load(),
// so that a checkpoint written with one LibTorch version resumes with another.
void load_optimizer_state(const std::filesystem::path& dir, torch::optim::AdamW& optimizer);

// Sets torch's CPU generator (and each CUDA generator saved and present)
// back to the saved states, so dropout continues the same random stream.
void restore_rng_states(const std::filesystem::path& dir);

}  // namespace loom::run_dir
