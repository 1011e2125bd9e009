// CRC-32 through zlib, and files summed as a stream; see checksum.hpp.
#include "loom/core/checksum.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include "loom/core/error.hpp"

namespace loom {
namespace {

// Large enough that a read costs far less than summing its bytes, small
// enough to stay in L2/L3 while it is summed.
constexpr std::size_t kReadBlockBytes = std::size_t{4} << 20;

}  // namespace

void Crc32::update(const void* data, std::size_t bytes) {
  // zlib takes at most a uInt's worth per call.
  const auto* next = static_cast<const Bytef*>(data);
  while (bytes > 0) {
    const std::size_t piece = std::min<std::size_t>(bytes, std::numeric_limits<uInt>::max());
    value_ = static_cast<std::uint32_t>(::crc32(value_, next, static_cast<uInt>(piece)));
    next += piece;
    bytes -= piece;
  }
}

std::string crc32_hex(std::uint32_t crc) {
  return fmt::format("{:08x}", crc);
}

std::optional<std::uint32_t> parse_crc32_hex(const std::string& text) {
  if (text.size() != 8 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(std::stoul(text, nullptr, 16));
}

FileChecksum checksum_file(const std::filesystem::path& path, std::uint64_t offset,
                           std::optional<std::uint64_t> length) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Error(fmt::format("{}: cannot read ({})", path.string(), std::strerror(errno)));
  }
  // The kernel reads ahead further for a file it is told is read once, in order.
  ::posix_fadvise(fd, static_cast<off_t>(offset), 0, POSIX_FADV_SEQUENTIAL);
  std::vector<unsigned char> block(kReadBlockBytes);
  Crc32 crc;
  FileChecksum sum;
  const std::uint64_t wanted = length.value_or(std::numeric_limits<std::uint64_t>::max());
  int error = 0;
  while (sum.bytes < wanted) {
    const std::size_t ask =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), wanted - sum.bytes));
    const ssize_t got = ::pread(fd, block.data(), ask, static_cast<off_t>(offset + sum.bytes));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) error = errno;
    if (got <= 0) break;
    crc.update(block.data(), static_cast<std::size_t>(got));
    sum.bytes += static_cast<std::uint64_t>(got);
  }
  ::close(fd);
  if (error != 0) {
    throw Error(fmt::format("{}: read error at byte {} ({})", path.string(), offset + sum.bytes,
                            std::strerror(error)));
  }
  if (length && sum.bytes < *length) {
    throw Error(fmt::format("{}: ends at byte {}, expected at least {}", path.string(),
                            offset + sum.bytes, offset + *length));
  }
  sum.crc32 = crc.value();
  return sum;
}

}  // namespace loom
