// The run's checkpoints as a policy (docs/ARCHITECTURE.md, invariant 5):
// which checkpoint a resume takes (the newest that passes its checksums,
// chosen by rank 0 for every rank) and the checks that make it safe, when a checkpoint is written
// (checkpoint.interval, the last step, a new best validation loss with checkpoint.keep_best; not
// while steps go bad, so that a diverging run stops with the last good one; a stop saves all the
// same, as bad steps change no weights), and on rank 0 alone the store that writes them. Every rank
// calls every method; the ones that write do nothing on the other ranks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/optim/adamw.h>

#include "loom/config/config.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/model/language_model.hpp"
#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/run_dir/run_checkpoint.hpp"
#include "loom/train/reports.hpp"

namespace loom::train {

// What a checkpoint is made of; the checkpointer reads these when it saves
// and loads into them when it resumes.
struct CheckpointedParts {
  const config::Config& config;
  const nlohmann::json& tokenizer;
  model::LanguageModel& model;
  torch::optim::AdamW& optimizer;
};

struct Resumed {
  run_dir::TrainingState state;             // as saved, for this run's world size
  std::vector<std::string> config_changes;  // "section.key: old -> new" since it was written
};

class Checkpointer {
 public:
  // The checkpoints of the run in `directory`; rank 0 opens the store (which clears
  // crashed writers' leftovers) and tells `observer` of each it writes.
  Checkpointer(const std::filesystem::path& directory, int rank, CheckpointedParts parts,
               TrainingObserver& observer);

  // Loads the newest checkpoint that verifies into the parts (weights,
  // optimizer state, random generators) when there is one and
  // checkpoint.resume allows. Rank 0 verifies, newest first, warns about
  // each one passed over (naming the file that failed) and sets it aside
  // (CheckpointStore::set_aside), and tells the others which step to load;
  // a collective, so every rank of `communicator` calls it. Throws
  // loom::UsageError when it cannot continue this run: resume is never, the
  // model shape or tokenizer differ, it is past train.max_iters; loom::Error
  // with ExitCode::kDamaged, naming every failure and changing nothing on
  // disk, when checkpoints exist but none verifies; loom::Error when a rank
  // cannot see the checkpoint rank 0 chose.
  std::optional<Resumed> resume(dist::Communicator& communicator, std::int64_t accumulation_steps);

  // After the step `state.step`: writes a checkpoint when one is due.
  // `bad_step`: the step was not finite (none then); `new_best`: its
  // evaluation found the best validation loss so far.
  void save_if_due(const run_dir::TrainingState& state, bool bad_step, bool new_best);

  // A run stopping early after `state.step` leaves a checkpoint of it
  // (unless save_if_due just wrote it).
  void save_for_stop(const run_dir::TrainingState& state);

  std::optional<run_dir::Checkpoint> latest() const { return run_dir::latest_checkpoint(dir_); }

 private:
  void save(const run_dir::TrainingState& state);
  // Rank 0's pick among the checkpoints: a step, kNoCheckpoint, or a throw.
  std::int64_t choose_checkpoint();
  // The step every rank resumes from (rank 0's choice), or kNoCheckpoint.
  std::int64_t agree_on_checkpoint(dist::Communicator& communicator);

  CheckpointedParts parts_;
  TrainingObserver& observer_;
  std::filesystem::path dir_;
  std::unique_ptr<run_dir::CheckpointStore> store_;  // rank 0 only
  std::int64_t interval_;
  std::int64_t max_iters_;
  bool keep_best_;
  std::int64_t last_saved_step_ = -1;
};

}  // namespace loom::train
