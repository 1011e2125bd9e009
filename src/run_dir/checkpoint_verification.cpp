// Checkpoints against their recorded checksums; see checkpoint_verification.hpp.
#include "loom/run_dir/checkpoint_verification.hpp"

#include <algorithm>
#include <system_error>

#include "checkpoint_layout.hpp"
#include "checkpoint_manifest.hpp"
#include <fmt/format.h>

namespace loom::run_dir {
namespace {

namespace fs = std::filesystem;
using checkpoint_detail::PayloadCheck;

CheckpointHealth health_of(PayloadCheck::Outcome outcome) {
  switch (outcome) {
    case PayloadCheck::Outcome::good:
      return CheckpointHealth::good;
    case PayloadCheck::Outcome::no_checksums:
      return CheckpointHealth::no_checksums;
    case PayloadCheck::Outcome::damaged:
      break;
  }
  return CheckpointHealth::damaged;
}

}  // namespace

std::string why_incomplete(const Checkpoint& checkpoint) {
  return checkpoint_detail::why_incomplete(checkpoint.dir, checkpoint.step);
}

CheckpointCheck verify_checkpoint(const Checkpoint& checkpoint) {
  const PayloadCheck payload = checkpoint_detail::verify_payload(checkpoint.dir, checkpoint.step);
  return {checkpoint, health_of(payload.outcome), payload.problem, payload.bytes_read,
          payload.files};
}

std::vector<CheckpointCheck> verify_checkpoints(const fs::path& checkpoints_dir) {
  std::vector<CheckpointCheck> checks;
  for (const Checkpoint& folder : checkpoint_detail::step_folders(checkpoints_dir))
    checks.push_back(verify_checkpoint(folder));
  return checks;
}

ResumeChoice newest_undamaged_checkpoint(const fs::path& checkpoints_dir) {
  const std::vector<Checkpoint> complete = list_checkpoints(checkpoints_dir);
  ResumeChoice choice;
  for (auto it = complete.rbegin(); it != complete.rend(); ++it) {
    CheckpointCheck check = verify_checkpoint(*it);
    if (check.health != CheckpointHealth::damaged) {
      choice.chosen = std::move(check);
      break;
    }
    choice.passed_over.push_back(std::move(check));
  }
  return choice;
}

std::vector<Checkpoint> set_aside_checkpoints(const fs::path& checkpoints_dir) {
  std::vector<Checkpoint> folders;
  std::error_code error;
  for (fs::directory_iterator entry(checkpoints_dir, error), end; !error && entry != end;
       entry.increment(error)) {
    const std::optional<std::int64_t> step =
        checkpoint_detail::step_of_set_aside_name(entry->path().filename().string());
    if (step) folders.push_back({*step, entry->path()});
  }
  std::sort(folders.begin(), folders.end(),
            [](const Checkpoint& a, const Checkpoint& b) { return a.dir < b.dir; });
  return folders;
}

}  // namespace loom::run_dir
