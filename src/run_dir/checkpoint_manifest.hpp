// The DONE marker that makes a checkpoint folder complete: its step and the
// size of every payload file, as JSON. The store writes it last, so a folder
// without it (or whose files no longer match it: a truncated copy, a
// half-deleted folder) is never taken for a checkpoint.
//
//   {"format": "loom-checkpoint", "version": 1, "step": 500,
//    "files": [{"path": "model.pt", "bytes": 1234567}, ...]}
//
// Paths are relative to the folder, '/'-separated, sorted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom::run_dir::checkpoint_detail {

inline constexpr const char* kManifestName = "DONE";

struct ManifestFile {
  std::string path;
  std::uintmax_t bytes = 0;
};

struct Manifest {
  std::int64_t step = 0;
  std::vector<ManifestFile> files;
};

// Lists the payload files under `dir`. Throws CheckpointError naming the
// path for anything but regular files and folders (a link could point out
// of the checkpoint) and for a payload file called DONE.
Manifest describe_payload(const std::filesystem::path& dir, std::int64_t step);

std::string manifest_text(const Manifest& manifest);

// Empty when `dir` holds a complete checkpoint of `step`: a DONE marker for
// that step whose files are all present with their sizes. Otherwise says
// why not, e.g. "model.pt has 100 bytes, DONE says 2048".
std::string why_incomplete(const std::filesystem::path& dir, std::int64_t step);

}  // namespace loom::run_dir::checkpoint_detail
