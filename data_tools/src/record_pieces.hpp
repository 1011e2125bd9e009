// Hands out one text (a JSONL text field, a chat message) as records of at
// most the record limit, cut between UTF-8 units like the lines of plain
// text, so every reader obeys the same bound on a record.
#pragma once

#include <cstddef>
#include <string>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

class RecordPieces {
 public:
  explicit RecordPieces(std::size_t max_record_bytes) : max_record_bytes_(max_record_bytes) {}

  // Replaces whatever was left with `text`; its first record starts a
  // document when `starts_document`.
  void assign(std::string text, bool starts_document);

  // The next record of the text; false when it has all been handed out.
  bool next(Record& record);

 private:
  std::size_t max_record_bytes_;
  std::string text_;
  std::size_t offset_ = 0;
  bool pending_ = false;
  bool starts_document_ = false;
};

}  // namespace loom::data_tools
