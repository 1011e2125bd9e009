// Damage as a bad disk or a bad copy makes it: one byte of a file flipped
// in place, its size unchanged, so only a checksum can tell.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace loom::test {

// Inverts every bit of the byte at `offset` (the middle of the file by
// default) of `path`.
inline void flip_byte(const std::filesystem::path& path, std::uintmax_t offset = UINTMAX_MAX) {
  const std::uintmax_t size = std::filesystem::file_size(path);
  if (size == 0) throw std::runtime_error(path.string() + ": empty, no byte to flip");
  if (offset == UINTMAX_MAX) offset = size / 2;
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  const char byte = static_cast<char>(file.get());
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(~byte));
  if (!file) throw std::runtime_error(path.string() + ": cannot flip a byte");
}

}  // namespace loom::test
