// Making files survive a crash: fsync of files and folders, and replacing a
// small file so that a reader sees the old content or the new, never a mix.
// A rename is atomic, but only durable once the folder holding the name is
// synced too; these helpers do both halves.
#pragma once

#include <filesystem>
#include <string>

namespace loom::durable {

void sync_file(const std::filesystem::path& path);
void sync_directory(const std::filesystem::path& path);

// fsyncs every regular file and folder under `root`, then `root` itself.
void sync_tree(const std::filesystem::path& root);

// Writes `text` to `path` (created or truncated) and fsyncs it.
void write_file_synced(const std::filesystem::path& path, const std::string& text);

// Writes `text` to `temp`, fsyncs it, renames it over `target` and fsyncs
// the folder, so `target` holds the old text or the new one at any instant.
void replace_file(const std::filesystem::path& target, const std::filesystem::path& temp,
                  const std::string& text);

// rename(2) with the errno in a loom::Error naming both paths.
//
// Every function here throws loom::Error naming the path and the errno text.
void rename_path(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace loom::durable
