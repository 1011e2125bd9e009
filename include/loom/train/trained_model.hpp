// A trained model ready to use: what `loom sample` and `loom eval` load
// from a checkpoint folder (its config rebuilds the model, its tokenizer
// turns text into ids and back).
#pragma once

#include <filesystem>
#include <memory>

#include <torch/types.h>

#include "loom/model/language_model.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/train/run_checkpoint.hpp"

namespace loom::train {

struct TrainedModel {
  CheckpointInfo info;
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::shared_ptr<model::LanguageModel> model;  // in eval mode, on the device asked for
};

// Throws CheckpointError naming the file when the folder is incomplete or
// its weights do not fit its own config.
TrainedModel load_trained_model(const std::filesystem::path& checkpoint_dir,
                                const torch::Device& device);

}  // namespace loom::train
