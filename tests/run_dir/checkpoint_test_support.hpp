// Helpers for the checkpoint store tests: payloads whose content is derived
// from the step, so a loaded checkpoint can be checked against the step it
// claims (entries_of, in test_support.hpp, lists a folder).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

#include "loom/core/mix.hpp"
#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::test {

struct PayloadFile {
  const char* path;
  std::size_t bytes;
};

// A few hundred KB in three files, one in a subfolder.
inline const std::vector<PayloadFile>& payload_files() {
  static const std::vector<PayloadFile> files = {
      {"model.bin", 300 * 1024}, {"optimizer.bin", 200 * 1024}, {"rng/rank-0.bin", 5000}};
  return files;
}

// Bytes that differ between steps and between files of one step.
inline std::string payload_content(std::int64_t step, std::size_t file, std::size_t bytes) {
  std::string content(bytes, '\0');
  std::uint64_t state = mix_keys(static_cast<std::uint64_t>(step), file);
  for (std::size_t i = 0; i < bytes; i += 8) {
    state = mix64(state + i);
    for (std::size_t k = 0; k < 8 && i + k < bytes; ++k) {
      content[i + k] = static_cast<char>(state >> (8 * k));
    }
  }
  return content;
}

inline run_dir::CheckpointStore::Fill payload_for(std::int64_t step) {
  return [step](const std::filesystem::path& dir) {
    const auto& files = payload_files();
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::filesystem::path path = dir / files[i].path;
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << payload_content(step, i, files[i].bytes);
    }
  };
}

// Whether every payload file of `checkpoint` holds what its step wrote.
inline bool payload_matches(const run_dir::Checkpoint& checkpoint) {
  const auto& files = payload_files();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (read_file((checkpoint.dir / files[i].path).string()) !=
        payload_content(checkpoint.step, i, files[i].bytes)) {
      return false;
    }
  }
  return true;
}

inline std::vector<std::int64_t> steps_of(const std::vector<run_dir::Checkpoint>& checkpoints) {
  std::vector<std::int64_t> steps;
  for (const run_dir::Checkpoint& checkpoint : checkpoints)
    steps.push_back(checkpoint.step);
  return steps;
}

}  // namespace loom::test
