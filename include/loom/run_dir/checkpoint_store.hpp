// The run's checkpoints folder (RUN/checkpoints), kept so that a kill -9 at
// any instant leaves the last good checkpoint loadable (docs/ARCHITECTURE.md, invariant
// 5). Layout:
//
//   step-00000500/            a complete checkpoint: payload files + DONE
//   step-00001000/
//   latest                    "step-00001000\n": the newest one written
//   best                      "step-00000500\n": set by mark_best
//   step-00000250.damaged/    set aside by a resume: it failed verification
//   .tmp-step-00001500-4242/  a write in progress, or a crashed writer's
//                             (.tmp-<what>-<pid>: also pointer updates and
//                             checkpoints being deleted)
//
// A checkpoint is written into a .tmp- folder, a DONE marker listing the
// files with their sizes and CRC-32s is added last, every file and folder in it is
// fsynced, and only then is it renamed to step-N (rename is atomic) and the
// parent folder fsynced. The `latest` and `best` pointers are small files replaced the
// same way. What counts is the folders, not the pointers: a complete
// checkpoint is a step-N folder whose DONE matches its files, and the latest
// one is the complete one with the highest step, so a pointer left stale or
// dangling by a crash never hides a good checkpoint or names a bad one.
// `latest` is there for people and scripts.
//
// `best` is a pointer, not a copy: the checkpoint it names is exempt from
// retention, so it costs no extra disk until it falls out of the last
// keep_last ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loom/core/error.hpp"

namespace loom::run_dir {

class CheckpointError : public Error {
 public:
  using Error::Error;
};

struct Checkpoint {
  std::int64_t step = 0;
  std::filesystem::path dir;  // .../checkpoints/step-00000500

  friend bool operator==(const Checkpoint& a, const Checkpoint& b) {
    return a.step == b.step && a.dir == b.dir;
  }
};

// "step-00000500": eight digits or more, so names sort like steps.
std::string checkpoint_dir_name(std::int64_t step);

// Reading a checkpoints folder changes nothing on disk, so `loom sample` and
// friends may read while a trainer writes (a checkpoint can still be deleted
// by retention between finding and loading it). A missing folder has no
// checkpoints.
//
// Complete checkpoints, by ascending step.
std::vector<Checkpoint> list_checkpoints(const std::filesystem::path& checkpoints_dir);
// The complete checkpoint with the highest step. Warns about each newer
// step-N folder passed over and why.
std::optional<Checkpoint> latest_checkpoint(const std::filesystem::path& checkpoints_dir);
// The checkpoint the `best` pointer names, when it is complete.
std::optional<Checkpoint> best_checkpoint(const std::filesystem::path& checkpoints_dir);

// The writer. One per run (rank 0): opening removes the .tmp- leftovers of
// crashed writers, which would delete a second live writer's work.
class CheckpointStore {
 public:
  // Fills the folder it is given with the payload files (any names but
  // DONE, subfolders allowed, regular files only).
  using Fill = std::function<void(const std::filesystem::path& dir)>;

  // Creates `checkpoints_dir` when missing and removes .tmp-* entries.
  // keep_last >= 1 complete checkpoints are kept (checkpoint.keep_last).
  // Throws CheckpointError naming the path when the folder cannot be made
  // or cleaned.
  CheckpointStore(std::filesystem::path checkpoints_dir, std::int64_t keep_last);

  const std::filesystem::path& dir() const { return dir_; }

  // Writes the checkpoint of `step` as described above, points `latest` at
  // it, then deletes the complete checkpoints that are neither among the
  // keep_last highest steps nor named by `latest` or `best`. An exception
  // from `fill` removes the temporary folder and propagates. Throws
  // CheckpointError when a complete checkpoint of `step` already exists (a
  // folder cannot be replaced atomically; an incomplete one is replaced),
  // and on I/O errors, naming the path; an incomplete folder of that step
  // is set aside (set_aside), not deleted. Failing to delete an old
  // checkpoint is only a warning: the new one is safe by then.
  Checkpoint write(std::int64_t step, const Fill& fill);

  // Points `best` at the complete checkpoint of `step` and applies
  // retention again (the previous best may now go). The trainer calls it
  // when checkpoint.keep_best is on and a validation loss improves. Throws
  // CheckpointError when there is no complete checkpoint of `step`.
  void mark_best(std::int64_t step);

  // Takes a damaged checkpoint out of the run's way: renames its folder to
  // step-N.damaged (checkpoint_verification.hpp finds these), a name that
  // is never listed, resumed from, counted by retention or deleted. So
  // keep_last counts good checkpoints only, step N can be written again,
  // and the damaged bytes stay for a person to look at: Loom never deletes
  // what failed a check. Returns the new path; throws loom::Error naming
  // the folder when it cannot be renamed.
  std::filesystem::path set_aside(const Checkpoint& checkpoint);

  std::vector<Checkpoint> list() const { return list_checkpoints(dir_); }
  std::optional<Checkpoint> latest() const { return latest_checkpoint(dir_); }
  std::optional<Checkpoint> best() const { return best_checkpoint(dir_); }

 private:
  void apply_retention();
  std::filesystem::path temp_path(const std::string& what) const;

  std::filesystem::path dir_;
  std::int64_t keep_last_;
};

}  // namespace loom::run_dir
