// The DONE marker that makes a checkpoint folder complete: its step and the
// size and CRC-32 (core/checksum.hpp) of every payload file, as JSON. The
// store writes it last, so a folder without it (or whose files no longer
// match it: a truncated copy, a half-deleted folder) is never taken for a
// checkpoint, and a flipped bit in a file (a bad disk, a bad copy between
// nodes) is caught by its checksum before the file is loaded.
//
//   {"format": "loom-checkpoint", "version": 2, "step": 500,
//    "files": [{"path": "model.pt", "bytes": 1234567, "crc32": "1a2b3c4d"}, ...]}
//
// Paths are relative to the folder, '/'-separated, sorted. Version 1, written
// by Loom before checksums, has no "crc32"; it is still read, so runs made
// then resume, checked by size only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::run_dir::checkpoint_detail {

inline constexpr const char* kManifestName = "DONE";
inline constexpr int kManifestVersion = 2;
// The last version that recorded sizes only.
inline constexpr int kSizesOnlyManifestVersion = 1;

struct ManifestFile {
  std::string path;
  std::uintmax_t bytes = 0;
  std::optional<std::uint32_t> crc32;  // none in a version 1 DONE
};

struct Manifest {
  int version = kManifestVersion;
  std::int64_t step = 0;
  std::vector<ManifestFile> files;
};

// Lists the payload files under `dir` with their sizes and checksums (each
// file is read once). Throws CheckpointError naming the path for anything
// but regular files and folders (a link could point out of the checkpoint),
// for a payload file called DONE, and for a file that cannot be read.
Manifest describe_payload(const std::filesystem::path& dir, std::int64_t step);

std::string manifest_text(const Manifest& manifest);

// Parses DONE's text (version 1 or 2), or says what is wrong with it in
// `problem`, e.g. "DONE lists a file entry {...} whose crc32 is not 8 hex
// digits". DONE is data read from disk: nothing in it is trusted.
std::optional<Manifest> parse_manifest(const std::string& text, std::string& problem);

// Empty when `dir` holds a complete checkpoint of `step`: a DONE marker for
// that step whose files are all present with their sizes. Otherwise says
// why not, e.g. "model.pt has 100 bytes, DONE says 2048". Reads no payload.
std::string why_incomplete(const std::filesystem::path& dir, std::int64_t step);

// A complete checkpoint's files against their recorded checksums.
struct PayloadCheck {
  enum class Outcome { good, no_checksums, damaged };
  Outcome outcome = Outcome::good;
  // damaged: the first problem found, naming the file, e.g. "model.pt does
  // not match its checksum (crc32 1a2b3c4d recorded, 9f8e7d6c read)";
  // no_checksums: why there are none.
  std::string problem;
  std::uint64_t bytes_read = 0;
  std::size_t files = 0;  // listed in DONE
};

// why_incomplete, then every file DONE lists read in full and summed. A
// version 1 DONE is no_checksums when the sizes match.
PayloadCheck verify_payload(const std::filesystem::path& dir, std::int64_t step);

}  // namespace loom::run_dir::checkpoint_detail
