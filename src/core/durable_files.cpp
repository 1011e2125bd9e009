// fsync and atomic replacement helpers; see durable_files.hpp.
#include "loom/core/durable_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

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

// A descriptor closed on every path out; fsync itself reports the errors.
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

  int get() const { return fd_; }
  void sync(const char* action) {
    if (::fsync(fd_) != 0) fail(path_, action, errno);
  }
  // close(2) can report a deferred write error; a file that failed to close
  // must not be taken for written.
  void close(const char* action) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(path_, action, errno);
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

void write_file_synced(const fs::path& path, const std::string& text) {
  FileDescriptor file(path, O_WRONLY | O_CREAT | O_TRUNC, "create");
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t count = ::write(file.get(), text.data() + written, text.size() - written);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) fail(path, "write", errno);
    written += static_cast<std::size_t>(count);
  }
  file.sync("sync");
  file.close("close");
}

void replace_file(const fs::path& target, const fs::path& temp, const std::string& text) {
  write_file_synced(temp, text);
  rename_path(temp, target);
  sync_directory(target.parent_path());
}

void rename_path(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int error = errno;
    throw Error(fmt::format("{}: cannot rename {} to it ({})", to.string(), from.string(),
                            std::strerror(error)));
  }
}

}  // namespace loom::durable
