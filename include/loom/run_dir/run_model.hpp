// A trained model ready to use, from a run directory or one of its
// checkpoint folders: what `loom sample`, `loom eval`, `loom serve` and
// `loom export` load (the checkpoint's config rebuilds the model, its
// tokenizer turns text into ids and back).
#pragma once

#include <filesystem>
#include <memory>

#include <torch/types.h>

#include "loom/model/language_model.hpp"
#include "loom/run_dir/run_checkpoint.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::run_dir {

// A path a user gives: a checkpoint folder (holds state.json), or a run
// directory, whose latest complete checkpoint is meant, or its best one when
// `best` is set. Throws UsageError saying what was looked for when there is
// none.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& run_or_checkpoint,
                                         bool best = false);

struct TrainedModel {
  CheckpointInfo info;  // info.dir: the checkpoint it came from
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::shared_ptr<model::LanguageModel> model;  // in eval mode, on the device asked for
};

// The checkpoint resolve_checkpoint(run_or_checkpoint, best) finds, loaded.
// Throws UsageError when there is none, CheckpointError naming the file
// when it is incomplete or its weights do not fit its own config.
TrainedModel load_run_model(const std::filesystem::path& run_or_checkpoint, bool best = false,
                            const torch::Device& device = torch::kCPU);

}  // namespace loom::run_dir
