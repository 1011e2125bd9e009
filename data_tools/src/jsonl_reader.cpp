// JSON Lines: one JSON object per line, the text in one string field. Each
// line is one document and its text one record: a text with newlines stays
// one multi-line record, so the filters judge the whole text (a story, a
// post) rather than its lines; a text longer than the record limit is cut in
// pieces. A line has to be parsed whole, so memory is bounded by the longest
// line rather than by the record limit. Blank lines are skipped, and so are
// empty texts (an empty document has nothing to train on).
#include "ascii_text.hpp"
#include "json_errors.hpp"
#include "line_reader.hpp"
#include "readers.hpp"
#include "record_pieces.hpp"
#include <fmt/format.h>

namespace loom::data_tools {
namespace {

using nlohmann::json;

class JsonlReader : public RecordReader {
 public:
  JsonlReader(const std::string& path, const ReaderOptions& options)
      : lines_(InputStream::open(path), LineReader::kUnlimited),
        field_(options.jsonl_field),
        pieces_(options.max_record_bytes) {}

  bool next(Record& record) override {
    while (!pieces_.next(record)) {
      if (!next_text()) return false;
    }
    return true;
  }

  std::uint64_t bytes_read() const override { return lines_.bytes_read(); }

 private:
  // Reads lines up to the next non-empty text and hands it to pieces_;
  // false at the end of the file.
  bool next_text() {
    bool continues_previous = false;
    while (lines_.next(line_, continues_previous)) {
      if (is_blank(line_)) continue;
      std::string text = text_of(parse_line());
      if (text.empty()) continue;
      pieces_.assign(std::move(text), /*starts_document=*/true);
      return true;
    }
    return false;
  }

  json parse_line() const {
    try {
      return json::parse(line_);
    } catch (const json::exception& error) {
      // A line holds no newline, so the offset in it is the column.
      throw CorpusError(malformed_json(
          lines_.path(), TextPosition{lines_.line_number(), json_error_offset(line_, error) + 1},
          json_complaint(error)));
    }
  }

  std::string text_of(json value) const {
    const std::string where = fmt::format("{}:{}", lines_.path(), lines_.line_number());
    if (!value.is_object()) {
      throw CorpusError(fmt::format("{}: expected a JSON object with a string field '{}', found {}",
                                    where, field_, json_kind(value)));
    }
    const auto field = value.find(field_);
    if (field == value.end()) {
      throw CorpusError(fmt::format("{}: field '{}' is missing", where, field_));
    }
    if (!field->is_string()) {
      throw CorpusError(fmt::format("{}: field '{}' is not a string (found {})", where, field_,
                                    json_kind(*field)));
    }
    return std::move(field->get_ref<std::string&>());
  }

  LineReader lines_;
  std::string field_;
  RecordPieces pieces_;
  std::string line_;
};

}  // namespace

std::unique_ptr<RecordReader> open_jsonl_reader(const std::string& path,
                                                const ReaderOptions& options) {
  return std::make_unique<JsonlReader>(path, options);
}

}  // namespace loom::data_tools
