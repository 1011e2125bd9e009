// Shared by the corpus reader targets: how an input's first byte picks the
// reader options, and the checks every reader's records must pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

#include "loom/data_tools/record_reader.hpp"

namespace loom::fuzz {

struct CorpusInput {
  data_tools::ReaderOptions options;
  std::string_view content;  // the file's bytes: the input after its first byte
};

// The first byte: its low 6 bits set a small record limit (4..67 bytes, so
// long lines are cut into pieces even in small inputs) unless all are set
// (the real limit); bit 6 the author prefix; bit 7 an empty separator (one
// document per file) instead of the default "<|endoftext|>".
inline CorpusInput corpus_input(const std::uint8_t* data, std::size_t size) {
  CorpusInput input;
  if (size == 0) return input;
  const std::uint8_t flags = data[0];
  const unsigned limit_bits = flags & 0x3f;
  if (limit_bits != 0x3f) input.options.max_record_bytes = 4 + limit_bits;
  input.options.author_prefix = (flags & 0x40) != 0;
  if (flags & 0x80) input.options.separator.clear();
  input.content = std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
  return input;
}

// The readers decompress by file name: content that starts as gzip or zstd
// data does is written under such a name, so the decompressors get fuzzed
// too.
inline std::string compression_suffix(std::string_view content) {
  if (content.substr(0, 2) == "\x1f\x8b") return ".gz";
  if (content.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) return ".zst";
  return "";
}

// Reads every record, checking what record_reader.hpp promises: no record
// longer than the limit, the first one starts a document, and a piece that
// continues its predecessor never starts one.
inline void read_all_records(data_tools::RecordReader& reader,
                             const data_tools::ReaderOptions& options) {
  data_tools::Record record;
  bool first = true;
  while (reader.next(record)) {
    check(record.text.size() <= options.max_record_bytes, "a record longer than max_record_bytes");
    check(!first || record.starts_document, "the first record does not start a document");
    check(!(record.continues_previous && record.starts_document),
          "a record both continues the previous one and starts a document");
    first = false;
  }
}

}  // namespace loom::fuzz
