// A scratch file that the token store writer streams one array into (a
// split's tokens or its document starts) before commit() copies it into
// HDF5. Appends are buffered in one fixed-size block, so memory stays
// constant however large the corpus. The file loses its name as soon as it
// is created and is used only through its descriptor, so the kernel frees
// it when the descriptor closes, however the process ends (even SIGKILL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loom::data::store_detail {

// Bytes of one buffered I/O block: the append buffer, and the unit commit()
// copies in.
inline constexpr std::size_t kSpillBlockBytes = std::size_t{1} << 20;

class SpillFile {
 public:
  // Creates `path` (replacing a stale file of that name) and unlinks it at
  // once; StoreError when it cannot. `path` stays the file's name in
  // messages.
  explicit SpillFile(std::string path);
  ~SpillFile() { discard(); }
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  // Moving hands the file over; assigning discards the file assigned to.
  SpillFile(SpillFile&& other) noexcept;
  SpillFile& operator=(SpillFile&& other) noexcept;

  const std::string& path() const { return path_; }
  // Bytes appended so far, buffered ones included.
  std::uint64_t size() const { return written_ + buffer_.size(); }

  void append(const void* data, std::size_t bytes);
  // Reads bytes [offset, offset + bytes), which must lie below size().
  void read(std::uint64_t offset, void* out, std::size_t bytes);
  // Shrinks the content to its first `bytes` bytes.
  void truncate(std::uint64_t bytes);
  // Closes the file, which frees it, now; later calls do nothing.
  void discard();

 private:
  void flush();

  std::string path_;
  int fd_ = -1;
  std::vector<unsigned char> buffer_;  // appended bytes not yet written
  std::uint64_t written_ = 0;          // bytes in the file itself
};

}  // namespace loom::data::store_detail
