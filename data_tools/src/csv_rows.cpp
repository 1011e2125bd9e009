// A small RFC 4180 reader; see csv_rows.hpp.
#include "csv_rows.hpp"

#include <fmt/format.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

CsvRows::CsvRows(std::string_view content, std::string path)
    : content_(content), path_(std::move(path)) {}

bool CsvRows::next(std::vector<std::string>& fields) {
  fields.clear();
  if (position_ >= content_.size()) return false;
  row_line_ = line_;
  for (;;) {
    std::string field;
    if (content_[position_] == '"') {
      read_quoted(field);
    } else {
      read_plain(field);
    }
    fields.push_back(std::move(field));
    if (position_ >= content_.size()) return true;
    if (content_[position_] == ',') {
      ++position_;
      if (position_ < content_.size()) continue;
      fields.emplace_back();  // a comma at the very end opens a last, empty field
      return true;
    }
    // A line ending: "\n", or "\r\n" after a quoted field.
    if (content_[position_] == '\r') ++position_;
    ++position_;
    ++line_;
    return true;
  }
}

void CsvRows::read_quoted(std::string& field) {
  const std::uint64_t opened_on = line_;
  ++position_;
  for (;;) {
    if (position_ >= content_.size()) {
      throw CorpusError(
          fmt::format("{}:{}: a quoted field opened on this line never closes", path_, opened_on));
    }
    const char byte = content_[position_++];
    if (byte == '"') {
      if (position_ < content_.size() && content_[position_] == '"') {
        field += '"';
        ++position_;
        continue;
      }
      break;
    }
    if (byte == '\n') ++line_;
    field += byte;
  }
  if (position_ >= content_.size()) return;
  const std::string_view rest = content_.substr(position_);
  if (rest[0] == ',' || rest[0] == '\n' || rest.substr(0, 2) == "\r\n") return;
  throw CorpusError(
      fmt::format("{}:{}: expected ',' or the end of the line after a closing "
                  "quote, found '{}'",
                  path_, line_, rest[0]));
}

void CsvRows::read_plain(std::string& field) {
  std::size_t end = content_.find_first_of(",\n", position_);
  if (end == std::string_view::npos) end = content_.size();
  field.assign(content_.substr(position_, end - position_));
  // "\r\n" endings: the "\r" belongs to the ending, not the field.
  if (!field.empty() && field.back() == '\r' && (end == content_.size() || content_[end] == '\n')) {
    field.pop_back();
  }
  position_ = end;
}

}  // namespace loom::data_tools
