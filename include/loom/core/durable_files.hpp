// Making files survive a crash: fsync of files and folders, and replacing a
// small file so that a reader sees the old content or the new, never a mix.
// A rename is atomic, but only durable once the folder holding the name is
// synced too; these helpers do both halves.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace loom::durable {

// A file written through one descriptor with every write(2) checked, so a
// full disk (ENOSPC), a quota (EDQUOT) or an I/O error is a loom::Error
// naming the path and the errno text at the write that met it, where a
// std::ofstream only turns its fail bit on. The file is created (mode
// 0644) or truncated, or appended to when `append` is set.
class FileWriter {
 public:
  explicit FileWriter(std::filesystem::path path, bool append = false);
  // Closes the descriptor; errors past that point were not asked for. A
  // writer not closed leaves its file as far as it got.
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, std::size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void sync();
  // close(2) can report a deferred write error (NFS does); a file that
  // failed to close must not be taken for written.
  void close();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

void sync_file(const std::filesystem::path& path);
void sync_directory(const std::filesystem::path& path);

// fsyncs every regular file and folder under `root`, then `root` itself.
void sync_tree(const std::filesystem::path& root);

// Writes `text` to `path` (created or truncated) and fsyncs it.
void write_file_synced(const std::filesystem::path& path, const std::string& text);

// Writes `text` to `temp`, fsyncs it, renames it over `target` and fsyncs
// the folder, so `target` holds the old text or the new one at any instant.
// `temp` is removed when writing it fails (a full disk keeps no half file).
void replace_file(const std::filesystem::path& target, const std::filesystem::path& temp,
                  const std::string& text);

// rename(2) with the errno in a loom::Error naming both paths.
//
// Every function here throws loom::Error naming the path and the errno text.
void rename_path(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace loom::durable
