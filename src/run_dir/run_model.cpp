#include "loom/run_dir/run_model.hpp"

#include <optional>

#include "checkpoint_layout.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir {
namespace {

namespace fs = std::filesystem;
using checkpoint_detail::kStateFile;

}  // namespace

fs::path resolve_checkpoint(const fs::path& run_or_checkpoint, bool best) {
  if (!fs::exists(run_or_checkpoint)) {
    throw UsageError(
        fmt::format("{}: no such run directory or checkpoint", run_or_checkpoint.string()));
  }
  if (fs::exists(run_or_checkpoint / kStateFile)) return run_or_checkpoint;
  const fs::path checkpoints = run_or_checkpoint / "checkpoints";
  const std::optional<Checkpoint> found =
      best ? best_checkpoint(checkpoints) : latest_checkpoint(checkpoints);
  if (!found) {
    throw UsageError(fmt::format(
        "{}: neither a checkpoint (no {}) nor a run directory with a {} checkpoint in {}",
        run_or_checkpoint.string(), kStateFile, best ? "best" : "complete", checkpoints.string()));
  }
  return found->dir;
}

TrainedModel load_run_model(const fs::path& run_or_checkpoint, bool best,
                            const torch::Device& device) {
  const fs::path checkpoint = resolve_checkpoint(run_or_checkpoint, best);
  TrainedModel trained;
  trained.info = read_checkpoint_info(checkpoint);
  trained.tokenizer = text::tokenizer_from_json(trained.info.tokenizer);
  trained.model = model::make_model(trained.info.config.model, trained.info.vocab_size);
  load_model_weights(checkpoint, *trained.model);
  trained.model->to(device);
  trained.model->eval();
  return trained;
}

}  // namespace loom::run_dir
