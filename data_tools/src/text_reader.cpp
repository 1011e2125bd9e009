// Plain text: each line is one record. A separator line (by default
// "<|endoftext|>", as in TinyStories) ends a document and is dropped; every
// file starts a new document, and a document with no lines at all (two
// separators in a row, a separator at the end) produces nothing.
#include "line_reader.hpp"
#include "readers.hpp"

namespace loom::data_tools {
namespace {

class TextReader : public RecordReader {
 public:
  TextReader(const std::string& path, const ReaderOptions& options)
      : lines_(InputStream::open(path), options.max_record_bytes), separator_(options.separator) {}

  bool next(Record& record) override {
    bool continues_previous = false;
    while (lines_.next(record.text, continues_previous)) {
      // Only a whole line is a separator: the first piece of a long line
      // that starts with one is text (found by fuzz/corpus_text).
      if (!continues_previous && !lines_.line_goes_on() && is_separator(record.text)) {
        document_starts_ = true;
        continue;
      }
      record.starts_document = document_starts_;
      record.continues_previous = continues_previous;
      document_starts_ = false;
      return true;
    }
    return false;
  }

  std::uint64_t bytes_read() const override { return lines_.bytes_read(); }

 private:
  // The separator, possibly followed by whitespace ("\r" is already gone).
  bool is_separator(const std::string& line) const {
    if (separator_.empty() || line.compare(0, separator_.size(), separator_) != 0) return false;
    return line.find_first_not_of(" \t\r\f\v", separator_.size()) == std::string::npos;
  }

  LineReader lines_;
  std::string separator_;
  bool document_starts_ = true;
};

}  // namespace

std::unique_ptr<RecordReader> open_text_reader(const std::string& path,
                                               const ReaderOptions& options) {
  return std::make_unique<TextReader>(path, options);
}

}  // namespace loom::data_tools
