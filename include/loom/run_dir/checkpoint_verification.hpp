// Checking checkpoints against the sizes and CRC-32s their DONE manifest
// records, so that a flipped bit (a bad disk, a bad copy between nodes) is
// found before the bytes are loaded and trained on. A resume verifies the
// checkpoint it picks and passes over the newer ones that fail; `loom
// verify` checks them all. Nothing here writes or deletes: a damaged
// checkpoint stays for a person to look at (CheckpointStore::set_aside
// takes it out of the way of a resumed run).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir {

enum class CheckpointHealth {
  good,          // every file matches its size and checksum
  no_checksums,  // written by a Loom before checksums: sizes match, bytes unchecked
  damaged,       // a file is missing, of another size, unreadable, or fails its checksum
};

struct CheckpointCheck {
  Checkpoint checkpoint;
  CheckpointHealth health = CheckpointHealth::good;
  // What is wrong, naming the file ("model.pt does not match its checksum
  // (crc32 1a2b3c4d recorded, 9f8e7d6c read)"), or why there are no
  // checksums; empty when good.
  std::string problem;
  std::uint64_t bytes_read = 0;
  std::size_t files = 0;
};

// Empty when the folder is a complete checkpoint of its step (its DONE's
// files present, with their sizes); otherwise why not. Reads no payload.
std::string why_incomplete(const Checkpoint& checkpoint);

// Reads every file the checkpoint's DONE lists, in full.
CheckpointCheck verify_checkpoint(const Checkpoint& checkpoint);

// Every step-N folder of `checkpoints_dir`, complete or not, by ascending
// step, each verified (an incomplete one is damaged, with the reason).
std::vector<CheckpointCheck> verify_checkpoints(const std::filesystem::path& checkpoints_dir);

// What a resume takes: the complete checkpoint of the highest step that is
// not damaged, verifying from the newest down and stopping there; and the
// newer complete ones that failed, newest first.
struct ResumeChoice {
  std::optional<CheckpointCheck> chosen;
  std::vector<CheckpointCheck> passed_over;
};
ResumeChoice newest_undamaged_checkpoint(const std::filesystem::path& checkpoints_dir);

// The folders CheckpointStore::set_aside made ("step-00000120.damaged"),
// each with the step it holds, by name.
std::vector<Checkpoint> set_aside_checkpoints(const std::filesystem::path& checkpoints_dir);

}  // namespace loom::run_dir
