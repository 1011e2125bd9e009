// CRC-32 (zlib's, the one of gzip, PNG and Python's zlib.crc32) of bytes in
// memory and of files read as a stream. Loom checks checkpoints and token
// stores with it: zlib is already linked (LibTorch, HDF5 and prepare's
// source digest use it), the token store records its sources' CRC-32
// already, anyone can recompute it with `python3 -c "import zlib; ..."`, and
// zlib 1.2.13 sums about 2.5 GB/s on one core, faster than a disk reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace loom {

// A running CRC-32: feed bytes in any pieces, read the value of all so far.
class Crc32 {
 public:
  void update(const void* data, std::size_t bytes);
  std::uint32_t value() const { return value_; }

 private:
  std::uint32_t value_ = 0;
};

// "1a2b3c4d": eight lowercase hex digits, the form manifests record.
std::string crc32_hex(std::uint32_t crc);
// The value of exactly eight hex digits (either case); nullopt otherwise.
std::optional<std::uint32_t> parse_crc32_hex(const std::string& text);

struct FileChecksum {
  std::uint64_t bytes = 0;  // read
  std::uint32_t crc32 = 0;
};

// The CRC-32 of `length` bytes of `path` from byte `offset` (to the end of
// the file when `length` is nullopt), read in large blocks in constant
// memory. Throws loom::Error naming the file when it cannot be read or ends
// before offset + length.
FileChecksum checksum_file(const std::filesystem::path& path, std::uint64_t offset = 0,
                           std::optional<std::uint64_t> length = std::nullopt);

}  // namespace loom
