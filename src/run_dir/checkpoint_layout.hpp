// Names inside a checkpoints folder and a checkpoint, shared by the reading
// side (checkpoint_listing.cpp, run_model.cpp) and the writers
// (checkpoint_store.cpp, run_checkpoint.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace loom::run_dir::checkpoint_detail {

inline constexpr const char* kLatestPointer = "latest";
inline constexpr const char* kBestPointer = "best";
// Writes in progress, pointer updates and deletions all start with this;
// nothing else in the folder does.
inline constexpr const char* kTempPrefix = ".tmp-";

// The payload of a run's checkpoint (run_checkpoint.hpp).
inline constexpr const char* kModelFile = "model.pt";
inline constexpr const char* kOptimizerFile = "optimizer.pt";
inline constexpr const char* kRngFile = "rng.pt";
inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kConfigFile = "config.yaml";
inline constexpr const char* kTokenizerFile = "tokenizer.json";

// The step of a folder name written by checkpoint_dir_name, or nullopt for
// any other name (a stray "step-5" is not mistaken for step-00000005).
std::optional<std::int64_t> step_of_dir_name(const std::string& name);

// The text a pointer file holds for `step`.
std::string pointer_text(std::int64_t step);

// The step a pointer file names, or nullopt when it is missing or holds
// anything but a checkpoint folder name.
std::optional<std::int64_t> read_pointer(const std::filesystem::path& file);

}  // namespace loom::run_dir::checkpoint_detail
