// Opt-in cleaning of records, each step counted for prepare's report so a
// user sees what was removed ("never dropped silently").
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

struct FilterOptions {
  bool drop_urls = false;         // remove http(s):// and www. links from the text
  bool drop_mentions = false;     // remove @user and Discord <@123>, <#123>, <@&123> mentions
  bool drop_code_blocks = false;  // remove ``` fenced ``` blocks
  std::uint64_t min_chars = 0;    // drop records with fewer code points (after the above)
  bool drop_empty = false;        // drop records that are empty or whitespace after the above
  bool dedup = false;             // drop exact repeats of an earlier record (64-bit hash set:
                                  // memory grows 8-16 bytes per distinct record)
  bool lowercase = false;         // Unicode lowercase
  bool nfc = false;               // Unicode NFC normalisation
};

struct FilterCounts {
  std::uint64_t records_in = 0;
  std::uint64_t records_out = 0;
  std::uint64_t urls_removed = 0;
  std::uint64_t mentions_removed = 0;
  std::uint64_t code_blocks_removed = 0;
  std::uint64_t dropped_empty = 0;
  std::uint64_t dropped_short = 0;
  std::uint64_t dropped_duplicate = 0;
  nlohmann::json to_json() const;
};

class RecordFilter {
 public:
  explicit RecordFilter(FilterOptions options);
  // Cleans `record` in place; false when it is to be dropped. A dropped
  // record that started a document passes that role to the next kept one
  // (the caller tracks it).
  bool keep(Record& record);
  const FilterCounts& counts() const { return counts_; }
  nlohmann::json options_json() const;

 private:
  FilterOptions options_;
  FilterCounts counts_;
  std::unordered_set<std::uint64_t> seen_;
  bool in_code_block_ = false;
};

}  // namespace loom::data_tools
