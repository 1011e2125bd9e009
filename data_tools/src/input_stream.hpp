// A corpus file as a stream of bytes, decompressed on the fly when its name
// ends in .gz or .zst. Files are read in fixed-size blocks, so memory does
// not depend on the file's size, and bytes_read() counts the file bytes
// (compressed ones for .gz/.zst) consumed so far, which is what progress
// reports against the sizes resolve_inputs recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loom::data_tools {

// Size of the blocks read from disk and decompressed into.
inline constexpr std::size_t kBlockBytes = std::size_t{1} << 20;

enum class Compression { none, gzip, zstd };

// By extension: ".gz" -> gzip, ".zst" -> zstd (any case), else none.
Compression compression_of(std::string_view path);

// `path` without a trailing ".gz" or ".zst": the name that says the format.
std::string_view without_compression_suffix(std::string_view path);

class InputStream {
 public:
  // Opens `path`, decompressing as its extension says; CorpusError when it
  // cannot be opened.
  static std::unique_ptr<InputStream> open(const std::string& path);

  virtual ~InputStream();
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Copies up to `capacity` bytes of content into `out`; 0 only at the end.
  // CorpusError when the file cannot be read or its compressed data is
  // corrupt or truncated (the message gives the byte offset).
  virtual std::size_t read(char* out, std::size_t capacity) = 0;

  std::uint64_t bytes_read() const { return bytes_read_; }
  const std::string& path() const { return path_; }

 protected:
  explicit InputStream(const std::string& path);
  // Reads up to `capacity` raw file bytes; 0 at the end of the file.
  std::size_t read_file(char* out, std::size_t capacity);

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t bytes_read_ = 0;
};

// The whole content of a (small) file, decompressed; for the formats that
// need a file in memory (a Discord channel).
std::string read_whole_file(const std::string& path);

// An InputStream with a block buffer in front, for readers that look at the
// content a few bytes or a line at a time.
class BufferedInput {
 public:
  explicit BufferedInput(std::unique_ptr<InputStream> stream);

  // The buffered bytes not yet consumed; refills when none are left, and is
  // empty only at the end of the input.
  std::string_view available() {
    if (position_ == filled_) refill();
    return std::string_view(buffer_.data() + position_, filled_ - position_);
  }
  // Marks `count` bytes of available() as consumed.
  void consume(std::size_t count) { position_ += count; }

  std::uint64_t bytes_read() const { return stream_->bytes_read(); }
  const std::string& path() const { return stream_->path(); }

 private:
  void refill();

  std::unique_ptr<InputStream> stream_;
  std::vector<char> buffer_;
  std::size_t position_ = 0;
  std::size_t filled_ = 0;
  bool ended_ = false;
};

}  // namespace loom::data_tools
