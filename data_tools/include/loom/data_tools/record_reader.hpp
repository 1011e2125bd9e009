// Corpus formats, read as a stream of records. A record is the unit the
// cleaning filters judge: one message of a chat export, one line of plain
// text, the text field of one JSONL line. Records come grouped into
// documents (a chat channel, a story between separators, a JSONL line, a
// file), which is what the train/val split assigns.
//
// Memory never depends on the size of a file or a document: readers stream
// (a JSON array of messages is parsed one message at a time), and a line
// longer than kMaxRecordBytes is handed out in pieces cut at UTF-8 character
// boundaries.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/error.hpp"

namespace loom::data_tools {

inline constexpr std::size_t kMaxRecordBytes = 1 << 20;

struct Record {
  std::string text;              // no trailing newline
  bool starts_document = false;  // first record of a new document
  // This record continues the previous one (a long line cut in pieces): no
  // newline goes between them when the document is assembled.
  bool continues_previous = false;
};

// A corpus file that cannot be read as its format says; the message names
// the file and the position (line, or line:column / byte offset for JSON).
class CorpusError : public Error {
 public:
  explicit CorpusError(const std::string& message) : Error(message, ExitCode::kUsage) {}
};

enum class InputFormat { text, jsonl, discord, telegram };

struct ReaderOptions {
  // text: a line equal to this (after trimming trailing whitespace and \r)
  // ends a document and is dropped; "" means one document per file.
  std::string separator = "<|endoftext|>";
  std::string jsonl_field = "text";  // jsonl: the field holding the text
  bool author_prefix = false;        // discord/telegram: "author: message"
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // The next record, or false when the input is exhausted.
  virtual bool next(Record& record) = 0;
  // Bytes of input consumed so far (compressed bytes for .gz/.zst), for progress.
  virtual std::uint64_t bytes_read() const = 0;
};

// Input resolution: each path may be a file, a folder (every file under it,
// sorted by name, or the channel folders of a Discord package), or a glob.
// The format is given, or (InputFormat deduced by detect_format) guessed
// from names: *.jsonl[.gz|.zst] -> jsonl, a folder with Messages/ ->
// discord, result.json -> telegram, anything else -> text.
struct InputFile {
  std::string path;
  std::uint64_t bytes = 0;
  InputFormat format = InputFormat::text;
};

// Throws CorpusError when a path matches nothing.
std::vector<InputFile> resolve_inputs(const std::vector<std::string>& paths,
                                      const std::string& format /* "auto" or a format name */);

// One reader over all inputs, in order; .gz and .zst are decompressed on the
// fly. A Discord package yields one document per channel (messages oldest
// first, one per record); a Telegram export one document per chat.
std::unique_ptr<RecordReader> open_records(const std::vector<InputFile>& inputs,
                                           const ReaderOptions& options);

}  // namespace loom::data_tools
