// CheckpointStore: the writing side of a checkpoints folder. The order of
// operations in write() is the whole point; see checkpoint_store.hpp.
#include "loom/run_dir/checkpoint_store.hpp"

#include <set>
#include <system_error>
#include <utility>

#include "checkpoint_layout.hpp"
#include "checkpoint_manifest.hpp"
#include <fmt/format.h>
#include <unistd.h>

#include "loom/core/durable_files.hpp"
#include "loom/core/log.hpp"

namespace loom::run_dir {
namespace {

namespace fs = std::filesystem;
using checkpoint_detail::describe_payload;
using checkpoint_detail::kBestPointer;
using checkpoint_detail::kLatestPointer;
using checkpoint_detail::kManifestName;
using checkpoint_detail::kTempPrefix;
using checkpoint_detail::manifest_text;
using checkpoint_detail::pointer_text;
using checkpoint_detail::read_pointer;
using checkpoint_detail::why_incomplete;
using durable::rename_path;
using durable::replace_file;
using durable::sync_directory;
using durable::sync_tree;
using durable::write_file_synced;

void remove_tree(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (error) {
    throw CheckpointError(fmt::format("{}: cannot remove ({})", path.string(), error.message()));
  }
}

// Renamed away first, then deleted: a crash half way through the deletion
// leaves a .tmp- folder for the next open to clear, never a step-N folder
// with some of its files gone.
void remove_checkpoint_folder(const fs::path& dir, const fs::path& doomed) {
  rename_path(dir, doomed);
  remove_tree(doomed);
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path checkpoints_dir, std::int64_t keep_last)
    : dir_(std::move(checkpoints_dir)), keep_last_(keep_last) {
  if (keep_last_ < 1) {
    throw CheckpointError(fmt::format("{}: keep_last = {}; at least 1 checkpoint must be kept",
                                      dir_.string(), keep_last_));
  }
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    throw CheckpointError(
        fmt::format("{}: cannot create checkpoints folder ({})", dir_.string(), error.message()));
  }
  for (fs::directory_iterator entry(dir_, error), end; !error && entry != end;
       entry.increment(error)) {
    if (entry->path().filename().string().rfind(kTempPrefix, 0) != 0) continue;
    log::info("{}: removing what an interrupted write or deletion left", entry->path().string());
    remove_tree(entry->path());
  }
  if (error) {
    throw CheckpointError(fmt::format("{}: cannot list ({})", dir_.string(), error.message()));
  }
}

fs::path CheckpointStore::temp_path(const std::string& what) const {
  return dir_ / fmt::format("{}{}-{}", kTempPrefix, what, ::getpid());
}

Checkpoint CheckpointStore::write(std::int64_t step, const Fill& fill) {
  if (step < 0) {
    throw CheckpointError(
        fmt::format("{}: cannot write a checkpoint for negative step {}", dir_.string(), step));
  }
  const std::string name = checkpoint_dir_name(step);
  const fs::path final_dir = dir_ / name;
  std::error_code error;
  const bool exists = fs::exists(final_dir, error);
  if (exists && why_incomplete(final_dir, step).empty()) {
    throw CheckpointError(
        fmt::format("{}: a complete checkpoint of step {} already exists; not replacing it",
                    final_dir.string(), step));
  }

  const fs::path temp = temp_path(name);
  remove_tree(temp);
  if (!fs::create_directory(temp, error)) {
    throw CheckpointError(fmt::format("{}: cannot create ({})", temp.string(), error.message()));
  }
  try {
    fill(temp);
    write_file_synced(temp / kManifestName, manifest_text(describe_payload(temp, step)));
    sync_tree(temp);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    throw;
  }

  if (exists) {
    const std::string problem = why_incomplete(final_dir, step);
    const fs::path kept = set_aside({step, final_dir});
    log::warn("{}: not a complete checkpoint ({}); kept as {}, writing step {} anew",
              final_dir.string(), problem, kept.string(), step);
  }
  rename_path(temp, final_dir);
  sync_directory(dir_);
  replace_file(dir_ / kLatestPointer, temp_path(kLatestPointer), pointer_text(step));
  apply_retention();
  return {step, final_dir};
}

fs::path CheckpointStore::set_aside(const Checkpoint& checkpoint) {
  for (int attempt = 1;; ++attempt) {
    const fs::path target = dir_ / checkpoint_detail::set_aside_name(checkpoint.step, attempt);
    std::error_code error;
    if (fs::exists(fs::symlink_status(target, error))) continue;
    rename_path(checkpoint.dir, target);
    sync_directory(dir_);
    return target;
  }
}

void CheckpointStore::mark_best(std::int64_t step) {
  const fs::path dir = dir_ / checkpoint_dir_name(step);
  const std::string problem = why_incomplete(dir, step);
  if (!problem.empty()) {
    throw CheckpointError(
        fmt::format("{}: cannot mark step {} as best: not a complete checkpoint ({})", dir.string(),
                    step, problem));
  }
  replace_file(dir_ / kBestPointer, temp_path(kBestPointer), pointer_text(step));
  apply_retention();
}

void CheckpointStore::apply_retention() {
  // The new checkpoint is already safe: trouble here is worth a warning, not
  // a failed write.
  std::vector<Checkpoint> complete;
  try {
    complete = list();
  } catch (const Error& e) {
    log::warn("{}: old checkpoints not pruned: {}", dir_.string(), e.what());
    return;
  }
  std::set<std::int64_t> kept;
  const std::size_t keep = static_cast<std::size_t>(keep_last_);
  for (std::size_t i = complete.size() > keep ? complete.size() - keep : 0; i < complete.size();
       ++i) {
    kept.insert(complete[i].step);
  }
  for (const char* pointer : {kLatestPointer, kBestPointer}) {
    if (const auto step = read_pointer(dir_ / pointer)) kept.insert(*step);
  }
  for (const Checkpoint& checkpoint : complete) {
    if (kept.count(checkpoint.step) != 0) continue;
    try {
      remove_checkpoint_folder(checkpoint.dir,
                               temp_path("deleted-" + checkpoint.dir.filename().string()));
    } catch (const CheckpointError& e) {
      log::warn("old checkpoint not deleted: {}", e.what());
    }
  }
}

}  // namespace loom::run_dir
