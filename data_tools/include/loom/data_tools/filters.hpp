// Opt-in cleaning of records, each step counted for prepare's report so a
// user sees what was removed ("never dropped silently").
//
// The steps, in this order (each only when its option is on):
//  1. drop_code_blocks, 2. drop_urls, 3. drop_mentions: remove spans of the
//     text (code first, so links and @names inside code are not counted
//     twice). A record any of them changed is then trimmed of leading and
//     trailing whitespace; untouched records keep theirs (indentation is
//     text). A record they leave blank is dropped, counted in dropped_empty,
//     even without drop_empty: the removal, not the corpus, emptied it.
//  4. lowercase, 5. nfc: rewrite the text. Text that is not valid UTF-8 is
//     left as it is by both and counted in invalid_utf8 (the tokenizer
//     reports the broken bytes later; one bad byte does not stop prepare).
//  6. drop_empty: drops records that are empty or ASCII whitespace.
//  7. min_chars: drops records with fewer characters, counted after the
//     rewrites (so "e" + U+0301 under nfc is one character) and as the
//     tokenizers count them (loom/text/utf8.hpp): a maximal invalid
//     subsequence is one character, the U+FFFD it reads as.
//  8. dedup: drops a record whose final text repeats an earlier one's. Blank
//     records are never judged duplicates (blank lines separate paragraphs;
//     drop_empty is for them). For plain text, where each line is a record,
//     dedup drops every repeated line: it is meant for chat messages.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/data_tools/fingerprint_set.hpp"
#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

struct FilterOptions {
  bool drop_urls = false;         // remove http(s):// and www. links from the text
  bool drop_mentions = false;     // remove @user and Discord <@123>, <#123>, <@&123> mentions
  bool drop_code_blocks = false;  // remove ``` fenced ``` blocks
  std::uint64_t min_chars = 0;    // drop records with fewer characters (after the above)
  bool drop_empty = false;        // drop records that are empty or whitespace after the above
  bool dedup = false;             // drop exact repeats of an earlier record (64-bit hash set:
                                  // memory grows 11-21 bytes per distinct record; a hash
                                  // collision, about one in 2^64 per pair, would drop a
                                  // distinct record)
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
  std::uint64_t invalid_utf8 = 0;  // records lowercase/nfc left unchanged: not valid UTF-8
  nlohmann::json to_json() const;
};

class RecordFilter {
 public:
  explicit RecordFilter(FilterOptions options);
  // Cleans `record` in place; false when it is to be dropped. A dropped
  // record that started a document passes that role to the next kept one
  // (the caller tracks it). Records must come in reading order: a code
  // block's state runs from record to record within a document.
  bool keep(Record& record);
  const FilterCounts& counts() const { return counts_; }
  nlohmann::json options_json() const;

 private:
  // Steps 1-3; true when the text changed.
  bool remove_spans(std::string& text);
  // Steps 4-5.
  void rewrite(std::string& text);
  // Steps 6-8: the count a dropped record goes to, or nullptr to keep it.
  std::uint64_t* drop_reason(const std::string& text, bool emptied_by_removal);

  FilterOptions options_;
  FilterCounts counts_;
  FingerprintSet seen_;
  bool in_code_block_ = false;
};

}  // namespace loom::data_tools
