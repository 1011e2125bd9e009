// A whole file mapped read-only into memory, unmapped when the object goes.
// The token store reader maps its file once and hands out pointers into it;
// the kernel pages tokens in on demand, so a corpus larger than RAM reads
// like one in it.
#pragma once

#include <cstdint>
#include <string>

namespace loom::data::store_detail {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws StoreError naming `path` when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  std::uint64_t size() const { return size_; }
  // Whether `path` still names the file that was mapped (not one renamed
  // over it since).
  bool is_file_at(const std::string& path) const;

 private:
  const unsigned char* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t device_ = 0;
  std::uint64_t inode_ = 0;
};

}  // namespace loom::data::store_detail
