// Corpus formats, read as a stream of records. A record is the unit the
// cleaning filters judge: one message of a chat export, one line of plain
// text, the text field of one JSONL line. Records come grouped into
// documents (a chat channel, a story between separators, a JSONL line, a
// file), which is what the train/val split assigns.
//
// Memory does not depend on the size of a file: readers stream in fixed-size
// blocks (a Telegram export's messages are parsed one at a time), and a line
// or text longer than kMaxRecordBytes is handed out in pieces cut between
// UTF-8 units as the tokenizers read them (loom/text/utf8.hpp: a character,
// or a maximal invalid subsequence), so the pieces decode to what the whole
// would. Two things are held whole because they must be: one JSONL line (to
// parse it) and one Discord channel (to sort its messages).
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
// Found while reading, maybe an hour into a prepare, so a runtime failure
// (exit code 1) rather than a usage error.
class CorpusError : public Error {
 public:
  explicit CorpusError(const std::string& message) : Error(message, ExitCode::kFailure) {}

 protected:
  CorpusError(const std::string& message, ExitCode code) : Error(message, code) {}
};

// An input path that gives nothing to read (no such file, folder or glob
// match; a folder without files; the wrong kind of path for the format; the
// run's own output) or an unknown format name. resolve_inputs finds these
// before any corpus is read, so, like any bad command line, exit code 2.
class InputResolutionError : public CorpusError {
 public:
  explicit InputResolutionError(const std::string& message)
      : CorpusError(message, ExitCode::kUsage) {}
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
// recursively, sorted by path), or a glob(3) pattern (its matches sorted by
// path, each taken as if named). A folder walk skips hidden files and
// folders, and token stores: files ending in ".h5", and their temporaries,
// ".h5.tmp" and the like (".h5." in the name and ".tmp" at its end), in any
// case. A store named or matched by a glob is read like any other file.
// The format is given ("text", "jsonl", "discord", "telegram": every input
// is read so), or with "auto" guessed:
//  - a Discord data package is one input: the package folder (its messages
//    folder found by what it holds, whatever its name's case or language),
//    the messages folder itself, or one channel folder; so is such a folder
//    met inside a folder being walked. One whose channels have no
//    messages.json or messages.csv is refused, saying what it holds;
//  - a folder with result.json is a Telegram export: that file alone (its
//    photos/ and files/ are not corpus); one with export_results.html or
//    messages.html (and css/) is Telegram's HTML export, refused with a
//    pointer to the JSON one;
//  - *.jsonl, *.jsonl.gz, *.jsonl.zst -> jsonl;
//  - result.json, or a .json whose top-level object has "messages" or
//    "chats" (checked by streaming through it) -> telegram, also .gz/.zst;
//  - anything else -> text.
// An input reached twice (`dir` and `dir/a.txt`, a path and a link to it)
// is listed once, where it was first reached: inputs are the same when
// their canonical paths are.
// `bytes` is what the reader's bytes_read() reaches at the input's end: the
// file's size, or the sum of a Discord package's message files.
struct InputFile {
  std::string path;
  std::uint64_t bytes = 0;
  InputFormat format = InputFormat::text;
};

// Files resolve_inputs never returns: the outputs of the run being
// prepared, so that an output written inside an input folder (or matched by
// an input glob) is not read back as corpus by the next run. Compared as
// canonical paths (links and ".." resolved); they need not exist yet.
struct ExcludedPaths {
  std::vector<std::string> files;     // these files, e.g. the store "out/corpus.h5"
  std::vector<std::string> prefixes;  // files whose path starts so, e.g. "out/corpus.h5."
};

// Throws InputResolutionError when a path matches nothing ("input 'x': no
// such file, folder or glob match"), a folder holds no files once the
// skipped and excluded ones are left out, a named file is excluded, or
// `format` is unknown; CorpusError when a folder cannot be listed.
std::vector<InputFile> resolve_inputs(const std::vector<std::string>& paths,
                                      const std::string& format /* "auto" or a format name */,
                                      const ExcludedPaths& excluded = {});

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
//  - telegram: one document per chat (a whole-account export's chats.list,
//    then its left_chats.list), one record per message with text (service
//    messages and empty texts skipped; entity arrays concatenated); the
//    author prefix is "from" ("unknown" when null). Streamed: memory is
//    bounded by one message.
// A chat export that yields no message with text is a CorpusError saying
// what it held: it is never what the user meant to give.
// Inputs are opened as they are reached; errors are CorpusError naming the
// file and position. bytes_read() sums the finished inputs' `bytes` and the
// current one's progress. UsageError when max_record_bytes < 4.
std::unique_ptr<RecordReader> open_records(const std::vector<InputFile>& inputs,
                                           const ReaderOptions& options);

}  // namespace loom::data_tools
