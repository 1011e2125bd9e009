// Rows of a CSV file held in memory (Discord's older messages.csv), as RFC
// 4180 writes them: fields split at commas, rows at "\n" or "\r\n", and a
// field in double quotes may hold commas, newlines and doubled quotes ("").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loom::data_tools {

class CsvRows {
 public:
  // `path` names the file in error messages; `content` must outlive this.
  CsvRows(std::string_view content, std::string path);

  // The next row's fields; false at the end. CorpusError for a quoted field
  // that never closes or text after a closing quote.
  bool next(std::vector<std::string>& fields);

  // 1-based line on which the last row returned starts.
  std::uint64_t row_line() const { return row_line_; }

 private:
  void read_quoted(std::string& field);
  void read_plain(std::string& field);

  std::string_view content_;
  std::string path_;
  std::size_t position_ = 0;
  std::uint64_t line_ = 1;
  std::uint64_t row_line_ = 0;
};

}  // namespace loom::data_tools
