// Read-only whole-file mappings; see store_mapped_file.hpp.
#include "store_mapped_file.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loom/data/token_store.hpp"

namespace loom::data::store_detail {

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw StoreError(fmt::format("{}: cannot open ({})", path, std::strerror(error)));
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
  device_ = info.st_dev;
  inode_ = info.st_ino;
  // The mapping keeps the file alive by itself; the descriptor can go.
  void* mapped = size_ > 0 ? ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0) : nullptr;
  const int error = errno;
  ::close(fd);
  if (mapped == MAP_FAILED) {
    throw StoreError(fmt::format("{}: cannot map ({})", path, std::strerror(error)));
  }
  data_ = static_cast<const unsigned char*>(mapped);
}

bool MappedFile::is_file_at(const std::string& path) const {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      device_(other.device_),
      inode_(other.inode_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  // `other` unmaps what this held when it goes.
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(device_, other.device_);
  std::swap(inode_, other.inode_);
  return *this;
}

}  // namespace loom::data::store_detail
