#include "loom/train/checkpointer.hpp"

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/log.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;

std::string bullet_list(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += "\n  " + line;
  return text;
}

std::string plural(std::int64_t count) {
  return count == 1 ? "" : "s";
}

}  // namespace

Checkpointer::Checkpointer(const fs::path& directory, int rank, CheckpointedParts parts,
                           TrainingObserver& observer)
    : parts_(parts),
      observer_(observer),
      dir_(directory / "checkpoints"),
      interval_(parts.config.checkpoint.interval),
      max_iters_(parts.config.train.max_iters),
      keep_best_(parts.config.checkpoint.keep_best) {
  if (rank == 0)
    store_ = std::make_unique<run_dir::CheckpointStore>(dir_, parts.config.checkpoint.keep_last);
}

std::optional<Resumed> Checkpointer::resume(int world_size, std::int64_t accumulation_steps) {
  const config::Config& config = parts_.config;
  const std::optional<run_dir::Checkpoint> latest = run_dir::latest_checkpoint(dir_);
  if (!latest) return std::nullopt;
  if (config.checkpoint.resume == config::ResumeMode::never) {
    throw UsageError(fmt::format(
        "checkpoint.resume is never, but {} already holds checkpoints (latest: step {}); "
        "choose another run.name or run.out_dir, delete that folder, or set "
        "checkpoint.resume: auto to continue it",
        dir_.parent_path().string(), latest->step));
  }

  const run_dir::CheckpointInfo info = run_dir::read_checkpoint_info(latest->dir);
  const std::vector<std::string> shape = run_dir::model_shape_differences(
      info.config.model, info.vocab_size, config.model, parts_.model.vocab_size());
  if (!shape.empty()) {
    throw UsageError(fmt::format(
        "{} was written for another model shape, so it cannot be resumed:{}\nrestore those keys, "
        "or train under another run.name",
        latest->dir.string(), bullet_list(shape)));
  }
  if (info.tokenizer != parts_.tokenizer) {
    throw UsageError(fmt::format(
        "{} was trained with another tokenizer than data.store '{}' holds; token ids would "
        "change meaning. Point data.store at the store the run was trained on",
        latest->dir.string(), config.data.store));
  }
  if (info.state.step > config.train.max_iters) {
    throw UsageError(
        fmt::format("{} is at step {}, past train.max_iters {}; raise train.max_iters to continue",
                    latest->dir.string(), info.state.step, config.train.max_iters));
  }
  if (info.state.world_size != world_size) {
    // The sampler's batch order depends on the global batch only
    // (docs/ARCHITECTURE.md, invariant 1), so the run goes on where it was;
    // what changes is how the batch is cut: micro-steps per rank, and so
    // which dropout masks each sequence gets (they are drawn per rank and
    // micro-step).
    log::info(
        "resuming step {} (written by {} rank{}) on {} rank{}: the same global batch of {} "
        "sequences, now {} micro-step{} of {} per rank",
        info.state.step, info.state.world_size, plural(info.state.world_size), world_size,
        plural(world_size), config.train.batch_size, accumulation_steps, plural(accumulation_steps),
        config.train.batch_size / (world_size * accumulation_steps));
  }
  run_dir::load_model_weights(latest->dir, parts_.model);
  run_dir::load_optimizer_state(latest->dir, parts_.optimizer);
  run_dir::restore_rng_states(latest->dir);
  Resumed resumed{info.state, run_dir::config_differences(info.config, config)};
  resumed.state.world_size = world_size;
  return resumed;
}

void Checkpointer::save_if_due(const run_dir::TrainingState& state, bool bad_step, bool new_best) {
  const bool keep_as_best = new_best && keep_best_;
  const bool due =
      (interval_ > 0 && state.step % interval_ == 0) || state.step == max_iters_ || keep_as_best;
  if (bad_step || !due) return;
  save(state);
  if (keep_as_best && store_) store_->mark_best(state.step);
}

void Checkpointer::save_for_stop(const run_dir::TrainingState& state) {
  if (last_saved_step_ != state.step) save(state);
}

void Checkpointer::save(const run_dir::TrainingState& state) {
  last_saved_step_ = state.step;
  if (!store_) return;
  const run_dir::Checkpoint written = store_->write(state.step, [&](const fs::path& dir) {
    run_dir::write_run_checkpoint(
        dir, run_dir::CheckpointContents{parts_.config, parts_.tokenizer, parts_.model,
                                         parts_.optimizer, state});
  });
  observer_.on_checkpoint(state.step, written.dir.string());
}

}  // namespace loom::train
