#include "loom/train/checkpointer.hpp"

#include <chrono>
#include <exception>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/run_dir/checkpoint_verification.hpp"

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

constexpr std::int64_t kNoCheckpoint = -1;
// Rank 0 threw while choosing; it rethrows its own error, the others this one.
constexpr std::int64_t kRank0Failed = -2;

// "checkpoint step 120 (RUN/checkpoints/step-00000120)"
std::string describe(const run_dir::Checkpoint& checkpoint) {
  return fmt::format("checkpoint step {} ({})", checkpoint.step, checkpoint.dir.string());
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

std::int64_t Checkpointer::choose_checkpoint() {
  const config::Config& config = parts_.config;
  // Listing first, by size only: a run that may not resume is refused
  // without reading its checkpoints.
  const std::optional<run_dir::Checkpoint> latest = run_dir::latest_checkpoint(dir_);
  if (!latest) return kNoCheckpoint;
  if (config.checkpoint.resume == config::ResumeMode::never) {
    throw UsageError(fmt::format(
        "checkpoint.resume is never, but {} already holds checkpoints (latest: step {}); "
        "choose another run.name or run.out_dir, delete that folder, or set "
        "checkpoint.resume: auto to continue it",
        dir_.parent_path().string(), latest->step));
  }

  const auto started = std::chrono::steady_clock::now();
  const run_dir::ResumeChoice choice = run_dir::newest_undamaged_checkpoint(dir_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!choice.chosen) {
    std::vector<std::string> failures;
    for (const run_dir::CheckpointCheck& check : choice.passed_over)
      failures.push_back(fmt::format("{}: {}", describe(check.checkpoint), check.problem));
    throw Error(fmt::format("no checkpoint in {} passes verification, so the run cannot resume:{}\n"
                            "nothing was deleted or moved; restore the damaged files from a "
                            "copy, or move the checkpoints away to start the run afresh",
                            dir_.string(), bullet_list(failures)),
                ExitCode::kDamaged);
  }
  const run_dir::CheckpointCheck& chosen = *choice.chosen;
  for (const run_dir::CheckpointCheck& check : choice.passed_over) {
    // Out of the way, not deleted: retention must not count it as one of
    // the last keep_last, and the run will write its step again.
    const fs::path kept = store_->set_aside(check.checkpoint);
    log::warn("{}: {}; passing over it for step {} (kept as {})", describe(check.checkpoint),
              check.problem, chosen.checkpoint.step, kept.filename().string());
  }
  if (chosen.health == run_dir::CheckpointHealth::no_checksums) {
    log::info("{}: {}", describe(chosen.checkpoint), chosen.problem);
  } else {
    std::uint64_t bytes = chosen.bytes_read;
    for (const run_dir::CheckpointCheck& check : choice.passed_over)
      bytes += check.bytes_read;
    log::info("{} verified: {} files, {:.1f} MB checked against their CRC-32s in {:.2f} s",
              describe(chosen.checkpoint), chosen.files, static_cast<double>(bytes) / 1e6, seconds);
  }
  return chosen.checkpoint.step;
}

std::int64_t Checkpointer::agree_on_checkpoint(dist::Communicator& communicator) {
  // Rank 0 alone reads the checkpoints in full (once, whatever the number
  // of ranks) and decides; the others take its step, so every rank resumes
  // from the same one (docs/ARCHITECTURE.md, invariant 4) even if a file
  // changes between their reads.
  std::int64_t step = kNoCheckpoint;
  std::exception_ptr failure;
  if (communicator.rank() == 0) {
    try {
      step = choose_checkpoint();
    } catch (...) {
      failure = std::current_exception();
      step = kRank0Failed;
    }
  }
  step = communicator.all_gather(step)[0];
  if (failure) std::rethrow_exception(failure);
  if (step == kRank0Failed) {
    throw Error("rank 0 found no checkpoint to resume from; its error says why");
  }
  if (step == kNoCheckpoint) return step;
  // Every rank must see that checkpoint whole (a run directory that is not
  // on a shared file system would resume each rank from another step).
  const fs::path dir = dir_ / run_dir::checkpoint_dir_name(step);
  const std::string problem = run_dir::why_incomplete({step, dir});
  const std::vector<std::int64_t> missing = communicator.all_gather(problem.empty() ? 0 : 1);
  std::vector<std::string> ranks;
  for (std::size_t r = 0; r < missing.size(); ++r)
    if (missing[r] != 0) ranks.push_back(std::to_string(r));
  if (!ranks.empty()) {
    throw Error(fmt::format(
        "rank 0 resumes from {}, but rank{} {} cannot read it{}; every rank must see the run "
        "directory (a shared file system)",
        dir.string(), ranks.size() == 1 ? "" : "s", fmt::join(ranks, ", "),
        problem.empty() ? "" : fmt::format(" (here: {})", problem)));
  }
  return step;
}

std::optional<Resumed> Checkpointer::resume(dist::Communicator& communicator,
                                            std::int64_t accumulation_steps) {
  const config::Config& config = parts_.config;
  const int world_size = communicator.size();
  const std::int64_t step = agree_on_checkpoint(communicator);
  if (step == kNoCheckpoint) return std::nullopt;
  const run_dir::Checkpoint chosen{step, dir_ / run_dir::checkpoint_dir_name(step)};

  const run_dir::CheckpointInfo info = run_dir::read_checkpoint_info(chosen.dir);
  const std::vector<std::string> shape = run_dir::model_shape_differences(
      info.config.model, info.vocab_size, config.model, parts_.model.vocab_size());
  if (!shape.empty()) {
    throw UsageError(fmt::format(
        "{} was written for another model shape, so it cannot be resumed:{}\nrestore those keys, "
        "or train under another run.name",
        chosen.dir.string(), bullet_list(shape)));
  }
  if (info.tokenizer != parts_.tokenizer) {
    throw UsageError(fmt::format(
        "{} was trained with another tokenizer than data.store '{}' holds; token ids would "
        "change meaning. Point data.store at the store the run was trained on",
        chosen.dir.string(), config.data.store));
  }
  if (info.state.step > config.train.max_iters) {
    throw UsageError(
        fmt::format("{} is at step {}, past train.max_iters {}; raise train.max_iters to continue",
                    chosen.dir.string(), info.state.step, config.train.max_iters));
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
  run_dir::load_model_weights(chosen.dir, parts_.model);
  run_dir::load_optimizer_state(chosen.dir, parts_.optimizer);
  run_dir::restore_rng_states(chosen.dir);
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
