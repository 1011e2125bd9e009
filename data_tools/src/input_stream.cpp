// Plain, gzip and zstd input streams. Compressed streams keep one block of
// compressed bytes and decompress straight into the caller's buffer; a gzip
// file may hold several members (as `cat a.gz b.gz` makes) and a zstd file
// several frames, and both are read to the end.
#include "input_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "ascii_text.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {
namespace {

class PlainStream : public InputStream {
 public:
  explicit PlainStream(const std::string& path) : InputStream(path) {}
  std::size_t read(char* out, std::size_t capacity) override { return read_file(out, capacity); }
};

class GzipStream : public InputStream {
 public:
  explicit GzipStream(const std::string& path) : InputStream(path), input_(kBlockBytes) {
    // 15 + 16: the largest window, and a gzip header and trailer expected.
    if (inflateInit2(&zlib_, 15 + 16) != Z_OK) {
      throw CorpusError(fmt::format("{}: cannot start gzip decompression", this->path()));
    }
  }
  ~GzipStream() override { inflateEnd(&zlib_); }

  std::size_t read(char* out, std::size_t capacity) override {
    const auto out_capacity = static_cast<uInt>(std::min<std::size_t>(capacity, UINT_MAX));
    zlib_.next_out = reinterpret_cast<Bytef*>(out);
    zlib_.avail_out = out_capacity;
    while (zlib_.avail_out == out_capacity) {
      if (zlib_.avail_in == 0 && !input_ended_) {
        const std::size_t count = read_file(input_.data(), input_.size());
        input_ended_ = count == 0;
        zlib_.next_in = reinterpret_cast<Bytef*>(input_.data());
        zlib_.avail_in = static_cast<uInt>(count);
      }
      const bool no_input = zlib_.avail_in == 0;
      if (no_input && !member_open_) return 0;
      const int status = inflate(&zlib_, Z_NO_FLUSH);
      if (status == Z_STREAM_END) {
        // The end of one member; another may follow.
        inflateReset(&zlib_);
        member_open_ = false;
        continue;
      }
      if (status != Z_OK && status != Z_BUF_ERROR) {
        throw CorpusError(fmt::format("{}: corrupt gzip data near byte {}: {}", path(), offset(),
                                      zlib_.msg != nullptr ? zlib_.msg : "inflate failed"));
      }
      member_open_ = true;
      if (no_input && zlib_.avail_out == out_capacity) {
        throw CorpusError(fmt::format(
            "{}: truncated gzip data: the file ends at byte {} inside a compressed stream", path(),
            bytes_read()));
      }
    }
    return out_capacity - zlib_.avail_out;
  }

 private:
  // The file offset up to which inflate has consumed input.
  std::uint64_t offset() const { return bytes_read() - zlib_.avail_in; }

  z_stream zlib_{};
  std::vector<char> input_;
  bool input_ended_ = false;
  bool member_open_ = false;
};

class ZstdStream : public InputStream {
 public:
  explicit ZstdStream(const std::string& path)
      : InputStream(path), stream_(ZSTD_createDStream()), input_(kBlockBytes) {
    if (stream_ == nullptr || ZSTD_isError(ZSTD_initDStream(stream_))) {
      ZSTD_freeDStream(stream_);
      throw CorpusError(fmt::format("{}: cannot start zstd decompression", this->path()));
    }
  }
  ~ZstdStream() override { ZSTD_freeDStream(stream_); }

  std::size_t read(char* out, std::size_t capacity) override {
    ZSTD_outBuffer output{out, capacity, 0};
    while (output.pos == 0) {
      if (buffered_.pos == buffered_.size && !input_ended_) {
        const std::size_t count = read_file(input_.data(), input_.size());
        input_ended_ = count == 0;
        buffered_ = ZSTD_inBuffer{input_.data(), count, 0};
      }
      const bool no_input = buffered_.pos == buffered_.size;
      if (no_input && !frame_open_) return 0;
      const std::size_t status = ZSTD_decompressStream(stream_, &output, &buffered_);
      if (ZSTD_isError(status)) {
        throw CorpusError(fmt::format("{}: corrupt zstd data near byte {}: {}", path(),
                                      bytes_read() - (buffered_.size - buffered_.pos),
                                      ZSTD_getErrorName(status)));
      }
      // 0 means a frame ended and all its output was handed out.
      frame_open_ = status != 0;
      if (no_input && output.pos == 0 && frame_open_) {
        throw CorpusError(fmt::format(
            "{}: truncated zstd data: the file ends at byte {} inside a compressed frame", path(),
            bytes_read()));
      }
    }
    return output.pos;
  }

 private:
  ZSTD_DStream* stream_;
  std::vector<char> input_;
  ZSTD_inBuffer buffered_{nullptr, 0, 0};
  bool input_ended_ = false;
  bool frame_open_ = false;
};

}  // namespace

Compression compression_of(std::string_view path) {
  if (ends_with_ignoring_case(path, ".gz")) return Compression::gzip;
  if (ends_with_ignoring_case(path, ".zst")) return Compression::zstd;
  return Compression::none;
}

std::string_view without_compression_suffix(std::string_view path) {
  switch (compression_of(path)) {
    case Compression::gzip:
      return path.substr(0, path.size() - 3);
    case Compression::zstd:
      return path.substr(0, path.size() - 4);
    case Compression::none:
      break;
  }
  return path;
}

std::unique_ptr<InputStream> InputStream::open(const std::string& path) {
  switch (compression_of(path)) {
    case Compression::gzip:
      return std::make_unique<GzipStream>(path);
    case Compression::zstd:
      return std::make_unique<ZstdStream>(path);
    case Compression::none:
      break;
  }
  return std::make_unique<PlainStream>(path);
}

InputStream::InputStream(const std::string& path)
    : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) throw CorpusError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
}

InputStream::~InputStream() {
  ::close(fd_);
}

std::size_t InputStream::read_file(char* out, std::size_t capacity) {
  for (;;) {
    const ssize_t count = ::read(fd_, out, capacity);
    if (count >= 0) {
      bytes_read_ += static_cast<std::uint64_t>(count);
      return static_cast<std::size_t>(count);
    }
    if (errno != EINTR) {
      throw CorpusError(fmt::format("cannot read '{}': {}", path_, std::strerror(errno)));
    }
  }
}

std::string read_whole_file(const std::string& path) {
  const std::unique_ptr<InputStream> stream = InputStream::open(path);
  std::string content;
  std::size_t filled = 0;
  for (;;) {
    content.resize(filled + kBlockBytes);
    const std::size_t count = stream->read(content.data() + filled, kBlockBytes);
    filled += count;
    if (count == 0) break;
  }
  content.resize(filled);
  return content;
}

BufferedInput::BufferedInput(std::unique_ptr<InputStream> stream)
    : stream_(std::move(stream)), buffer_(kBlockBytes) {}

void BufferedInput::refill() {
  if (ended_) return;
  position_ = 0;
  filled_ = stream_->read(buffer_.data(), buffer_.size());
  ended_ = filled_ == 0;
}

}  // namespace loom::data_tools
