// Private to the export module: making an export folder appear whole. The
// files are written into a temporary folder beside the destination, synced,
// and the folder renamed into place, so a crash leaves the destination as
// it was (or, with force, absent) and never half-written. Only folders that
// hold nothing but an export's own files are ever removed: `--out` pointed
// at a folder of other things is an error, not a loss.
#pragma once

#include <array>
#include <filesystem>
#include <functional>

namespace loom::exporting::detail {

// The files an export folder holds (either format's).
inline constexpr const char* kWeightsFile = "model.safetensors";
inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kTokenizerFile = "tokenizer.json";
// The Hugging Face export's two more (hf_export.hpp).
inline constexpr const char* kGenerationConfigFile = "generation_config.json";
inline constexpr const char* kTokenizerConfigFile = "tokenizer_config.json";
inline constexpr std::array<const char*, 5> kExportFiles = {
    kWeightsFile, kConfigFile, kTokenizerFile, kGenerationConfigFile, kTokenizerConfigFile};

// Calls write(temp) on an empty folder named out_dir + ".tmp" (one left by
// an interrupted export is replaced), syncs what it wrote, then replaces
// out_dir with it. Throws loom::UsageError when out_dir exists and `force`
// is off, when out_dir is not a folder, or when out_dir or the temporary
// folder holds anything but the files of kExportFiles; loom::Error naming
// the path when the file system refuses.
void write_folder_atomically(const std::filesystem::path& out_dir, bool force,
                             const std::function<void(const std::filesystem::path&)>& write);

}  // namespace loom::exporting::detail
