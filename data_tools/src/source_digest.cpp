#include "source_digest.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <zlib.h>

namespace loom::data_tools {
namespace {

namespace fs = std::filesystem;

void add_file(const fs::path& path, data::SourceFile& source, const std::atomic<bool>& stop) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw CorpusError(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  }
  std::vector<char> buffer(1 << 20);
  while (!stop) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<uInt>(file.gcount());
    if (got == 0) break;
    source.crc32 = static_cast<std::uint32_t>(
        ::crc32(source.crc32, reinterpret_cast<const Bytef*>(buffer.data()), got));
    source.bytes += got;
  }
  if (file.bad()) throw CorpusError(fmt::format("{}: read error", path.string()));
}

// The files of a chat export that readers open; the rest of a package
// (activity logs, servers, attachments) is never read, so never summed.
bool read_by_loom(const fs::path& path) {
  const std::string name = path.filename().string();
  return name == "messages.json" || name == "messages.csv" || name == "user.json" ||
         name == "result.json";
}

std::vector<data::SourceFile> digest_sources(const std::vector<InputFile>& inputs,
                                             const std::atomic<bool>& stop) {
  std::vector<data::SourceFile> sources;
  for (const InputFile& input : inputs) {
    data::SourceFile source{input.path, 0, 0};
    if (!fs::is_directory(input.path)) {
      add_file(input.path, source, stop);
    } else {
      std::vector<fs::path> files;
      std::error_code error;
      for (fs::recursive_directory_iterator it(input.path, error), end; !error && it != end;
           it.increment(error)) {
        if (it->is_regular_file() && read_by_loom(it->path())) files.push_back(it->path());
      }
      if (error) {
        throw CorpusError(fmt::format("{}: cannot list: {}", input.path, error.message()));
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& file : files)
        add_file(file, source, stop);
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace

SourceDigest::SourceDigest(std::vector<InputFile> inputs)
    : inputs_(std::move(inputs)),
      sources_(std::async(std::launch::async, [this] { return digest_sources(inputs_, stop_); })) {}

SourceDigest::~SourceDigest() {
  stop_ = true;
  if (sources_.valid()) sources_.wait();
}

std::vector<data::SourceFile> SourceDigest::get() {
  return sources_.get();
}

}  // namespace loom::data_tools
