// Corpus formats, read as a stream of records. A record is the unit the
// cleaning filters judge: one message of a chat export, one line of plain
// text, the text field of one JSONL line. Records come grouped into
// documents (a chat channel, a story between separators, a JSONL line, a
// file), which is what the train/val split assigns.
//
// Memory does not depend on the size of a file: readers stream in fixed-size
// blocks (a Telegram export's messages are parsed one at a time), and a line
// or text longer than kMaxRecordBytes is handed out in pieces cut at UTF-8
// character boundaries. Two units are held whole because they must be: one
// JSONL line (to parse it) and one Discord channel (to sort its messages).
#pragma once

#include <cstddef>
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

// "text", "jsonl", "discord", "telegram".
const char* input_format_name(InputFormat format);

struct ReaderOptions {
  // text: a line equal to this (after trimming trailing whitespace and \r)
  // ends a document and is dropped; "" means one document per file.
  std::string separator = "<|endoftext|>";
  std::string jsonl_field = "text";  // jsonl: the field holding the text
  bool author_prefix = false;        // discord/telegram: "author: message"
  // Longer lines and texts are handed out in pieces of at most this many
  // bytes (at least 4, one UTF-8 character); tests make it small.
  std::size_t max_record_bytes = kMaxRecordBytes;
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
// recursively, sorted by path, hidden files and folders skipped), or a
// glob(3) pattern. The format is given ("text", "jsonl", "discord",
// "telegram": every input is read so), or with "auto" guessed:
//  - a folder with Messages/ (or messages/) is a Discord data package, one
//    input; so is such a folder met inside a folder being walked;
//  - a folder with result.json is a Telegram export: that file alone (its
//    photos/ and files/ are not corpus);
//  - *.jsonl, *.jsonl.gz, *.jsonl.zst -> jsonl;
//  - result.json, or a .json whose top-level object has "messages" or
//    "chats" (checked by streaming through it) -> telegram, also .gz/.zst;
//  - anything else -> text.
// `bytes` is what the reader's bytes_read() reaches at the input's end: the
// file's size, or the sum of a Discord package's message files.
struct InputFile {
  std::string path;
  std::uint64_t bytes = 0;
  InputFormat format = InputFormat::text;
};

// Throws CorpusError when a path matches nothing ("input 'x': no such file,
// folder or glob match"), a folder holds no files, or `format` is unknown.
std::vector<InputFile> resolve_inputs(const std::vector<std::string>& paths,
                                      const std::string& format /* "auto" or a format name */);

// One reader over all inputs, in order; .gz and .zst are decompressed on the
// fly. Every input starts a new document.
//  - text: one record per line; documents end at separator lines.
//  - jsonl: one document per line, its text field one record (newlines in
//    it kept: a multi-line record); blank lines and empty texts skipped.
//  - discord: one document per channel (channels in id order), messages
//    oldest first, one record each, empty ones skipped; the author prefix is
//    the owner's name from account/user.json ("global_name", else
//    "username"), or "me". One channel's file is held in memory at a time
//    (packages list newest first; it is sorted by message id).
//  - telegram: one document per chat (a whole-account export's chats.list;
//    left_chats are not read), one record per message with text (service
//    messages and empty texts skipped; entity arrays concatenated); the
//    author prefix is "from" ("unknown" when null). Streamed: memory is
//    bounded by one message.
// Inputs are opened as they are reached; errors are CorpusError naming the
// file and position. bytes_read() sums the finished inputs' `bytes` and the
// current one's progress. UsageError when max_record_bytes < 4.
std::unique_ptr<RecordReader> open_records(const std::vector<InputFile>& inputs,
                                           const ReaderOptions& options);

}  // namespace loom::data_tools
