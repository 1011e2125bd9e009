// Names inside a checkpoints folder and a checkpoint, shared by the reading
// side (checkpoint_listing.cpp, run_model.cpp) and the writers
// (checkpoint_store.cpp, run_checkpoint.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loom/run_dir/checkpoint_store.hpp"

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

// Every step-N folder of `checkpoints_dir`, complete or not, by ascending
// step; none when the folder is missing. Throws CheckpointError naming it
// when it cannot be read.
std::vector<Checkpoint> step_folders(const std::filesystem::path& checkpoints_dir);

// A damaged checkpoint taken out of the way (CheckpointStore::set_aside):
// "step-00000120.damaged", then "step-00000120.damaged-2", ... for the
// same step damaged again. Not a step-N name, so never listed, counted by
// retention or resumed from; not a .tmp- name, so never cleared.
std::string set_aside_name(std::int64_t step, int attempt);
// The step of such a name, or nullopt for any other name.
std::optional<std::int64_t> step_of_set_aside_name(const std::string& name);

// The text a pointer file holds for `step`.
std::string pointer_text(std::int64_t step);

// The step a pointer file names, or nullopt when it is missing or holds
// anything but a checkpoint folder name.
std::optional<std::int64_t> read_pointer(const std::filesystem::path& file);

}  // namespace loom::run_dir::checkpoint_detail
