// The cleaning filters: the order of the steps and what each counts are
// documented in filters.hpp; the span removals live in text_cleaning.cpp
// and the Unicode rewrites in unicode_text.cpp.
#include "loom/data_tools/filters.hpp"

#include <functional>
#include <string_view>

#include "ascii_text.hpp"
#include "text_cleaning.hpp"
#include "unicode_text.hpp"

#include "loom/text/utf8.hpp"

namespace loom::data_tools {

static_assert(sizeof(std::size_t) == 8, "dedup relies on a 64-bit std::hash");

nlohmann::json FilterCounts::to_json() const {
  return {{"records_in", records_in},
          {"records_out", records_out},
          {"urls_removed", urls_removed},
          {"mentions_removed", mentions_removed},
          {"code_blocks_removed", code_blocks_removed},
          {"dropped_empty", dropped_empty},
          {"dropped_short", dropped_short},
          {"dropped_duplicate", dropped_duplicate},
          {"invalid_utf8", invalid_utf8}};
}

RecordFilter::RecordFilter(FilterOptions options) : options_(options) {}

nlohmann::json RecordFilter::options_json() const {
  return {{"drop_urls", options_.drop_urls},
          {"drop_mentions", options_.drop_mentions},
          {"drop_code_blocks", options_.drop_code_blocks},
          {"min_chars", options_.min_chars},
          {"drop_empty", options_.drop_empty},
          {"dedup", options_.dedup},
          {"lowercase", options_.lowercase},
          {"nfc", options_.nfc}};
}

bool RecordFilter::keep(Record& record) {
  ++counts_.records_in;
  if (record.starts_document) in_code_block_ = false;
  const bool removed = remove_spans(record.text);
  if (removed) trim(record.text);
  rewrite(record.text);
  if (std::uint64_t* reason = drop_reason(record.text, removed && is_blank(record.text))) {
    ++*reason;
    return false;
  }
  ++counts_.records_out;
  return true;
}

bool RecordFilter::remove_spans(std::string& text) {
  bool changed = false;
  if (options_.drop_code_blocks) {
    counts_.code_blocks_removed += remove_code_blocks(text, in_code_block_, changed);
  }
  if (options_.drop_urls) {
    const std::uint64_t removed = remove_urls(text);
    counts_.urls_removed += removed;
    changed = changed || removed > 0;
  }
  if (options_.drop_mentions) {
    const std::uint64_t removed = remove_mentions(text);
    counts_.mentions_removed += removed;
    changed = changed || removed > 0;
  }
  return changed;
}

void RecordFilter::rewrite(std::string& text) {
  bool valid = true;
  if (options_.lowercase) valid = lowercase_utf8(text);
  if (options_.nfc && valid) valid = normalize_nfc(text);
  if (!valid) ++counts_.invalid_utf8;
}

std::uint64_t* RecordFilter::drop_reason(const std::string& text, bool emptied_by_removal) {
  const bool blank = is_blank(text);
  if (emptied_by_removal || (options_.drop_empty && blank)) return &counts_.dropped_empty;
  if (options_.min_chars > 0 && loom::text::count_utf8(text).characters < options_.min_chars) {
    return &counts_.dropped_short;
  }
  if (options_.dedup && !blank && !seen_.insert(std::hash<std::string_view>{}(text))) {
    return &counts_.dropped_duplicate;
  }
  return nullptr;
}

}  // namespace loom::data_tools
