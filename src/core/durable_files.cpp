// fsync and atomic replacement helpers; see durable_files.hpp.
#include "loom/core/durable_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "loom/core/error.hpp"

namespace loom::durable {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, const char* action, int error) {
  throw Error(fmt::format("{}: cannot {} ({})", path.string(), action, std::strerror(error)));
}

// A descriptor opened to fsync, closed on every path out; fsync itself
// reports the errors.
class FileDescriptor {
 public:
  FileDescriptor(const fs::path& path, int flags, const char* action) : path_(path) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(path, action, errno);
  }
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  void sync(const char* action) {
    if (::fsync(fd_) != 0) fail(path_, action, errno);
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

}  // namespace

void sync_file(const fs::path& path) {
  FileDescriptor file(path, O_RDONLY, "open to sync");
  file.sync("sync");
}

void sync_directory(const fs::path& path) {
  FileDescriptor folder(path, O_RDONLY | O_DIRECTORY, "open folder to sync");
  folder.sync("sync folder");
}

void sync_tree(const fs::path& root) {
  std::error_code error;
  for (fs::recursive_directory_iterator entry(root, error), end; !error && entry != end;
       entry.increment(error)) {
    // Links are not followed.
    const fs::file_status status = entry->symlink_status(error);
    if (error) break;
    if (fs::is_directory(status)) {
      sync_directory(entry->path());
    } else if (fs::is_regular_file(status)) {
      sync_file(entry->path());
    }
  }
  if (error) fail(root, "list folder", error.value());
  sync_directory(root);
}

FileWriter::FileWriter(fs::path path, bool append) : path_(std::move(path)) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  fd_ = ::open(path_.c_str(), flags, 0644);
  if (fd_ < 0) fail(path_, append ? "open for appending" : "create", errno);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::write(const void* data, std::size_t bytes) {
  if (fd_ < 0) throw Error(fmt::format("{}: cannot write (already closed)", path_.string()));
  const auto* from = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t count = ::write(fd_, from, bytes);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) fail(path_, "write", errno);
    from += count;
    bytes -= static_cast<std::size_t>(count);
  }
}

void FileWriter::sync() {
  if (fd_ >= 0 && ::fsync(fd_) != 0) fail(path_, "sync", errno);
}

void FileWriter::close() {
  const int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) fail(path_, "close", errno);
}

void write_file_synced(const fs::path& path, const std::string& text) {
  FileWriter file(path);
  file.write(text);
  file.sync();
  file.close();
}

void replace_file(const fs::path& target, const fs::path& temp, const std::string& text) {
  try {
    write_file_synced(temp, text);
  } catch (...) {
    std::error_code ignored;  // the write's error is the one worth reporting
    fs::remove(temp, ignored);
    throw;
  }
  rename_path(temp, target);
  // A bare file name lives in the working folder.
  sync_directory(target.has_parent_path() ? target.parent_path() : fs::path("."));
}

void rename_path(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int error = errno;
    throw Error(fmt::format("{}: cannot rename {} to it ({})", to.string(), from.string(),
                            std::strerror(error)));
  }
}

}  // namespace loom::durable
