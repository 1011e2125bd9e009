// Buffered scratch files for the token store writer; see store_spill_file.hpp.
#include "store_spill_file.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "loom/data/token_store.hpp"

namespace loom::data::store_detail {
namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int error) {
  throw StoreError(fmt::format("{}: {} ({})", path, what, std::strerror(error)));
}

}  // namespace

SpillFile::SpillFile(std::string path) : path_(std::move(path)) {
  // Opening by name (not O_TMPFILE) works on every file system, and also
  // clears a stale file of this name left by an older Loom, which kept its
  // scratch files named until it finished.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) fail(path_, "cannot create scratch file", errno);
  if (::unlink(path_.c_str()) != 0) {
    const int error = errno;
    ::close(fd_);
    fail(path_, "cannot unlink scratch file", error);
  }
  buffer_.reserve(kSpillBlockBytes);
}

SpillFile::SpillFile(SpillFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      written_(std::exchange(other.written_, 0)) {}

SpillFile& SpillFile::operator=(SpillFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    written_ = std::exchange(other.written_, 0);
  }
  return *this;
}

void SpillFile::append(const void* data, std::size_t bytes) {
  const auto* from = static_cast<const unsigned char*>(data);
  while (bytes > 0) {
    const std::size_t room = kSpillBlockBytes - buffer_.size();
    const std::size_t take = bytes < room ? bytes : room;
    buffer_.insert(buffer_.end(), from, from + take);
    from += take;
    bytes -= take;
    if (buffer_.size() == kSpillBlockBytes) flush();
  }
}

void SpillFile::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t wrote = ::pwrite(fd_, buffer_.data() + done, buffer_.size() - done,
                                   static_cast<off_t>(written_ + done));
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) fail(path_, "cannot write scratch file", errno);
    done += static_cast<std::size_t>(wrote);
  }
  written_ += buffer_.size();
  buffer_.clear();
}

void SpillFile::read(std::uint64_t offset, void* out, std::size_t bytes) {
  flush();
  auto* to = static_cast<unsigned char*>(out);
  while (bytes > 0) {
    const ssize_t got = ::pread(fd_, to, bytes, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path_, "cannot read scratch file", errno);
    if (got == 0) {
      throw StoreError(fmt::format("{}: scratch file ends at byte {}, before its {} bytes", path_,
                                   offset, written_));
    }
    to += got;
    offset += static_cast<std::uint64_t>(got);
    bytes -= static_cast<std::size_t>(got);
  }
}

void SpillFile::truncate(std::uint64_t bytes) {
  flush();
  if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) {
    fail(path_, "cannot truncate scratch file", errno);
  }
  written_ = bytes;
}

void SpillFile::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  buffer_.shrink_to_fit();
  written_ = 0;
}

}  // namespace loom::data::store_detail
