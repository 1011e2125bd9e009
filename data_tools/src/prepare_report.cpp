// The closing report of `loom prepare`: printed for the user and stored, as
// JSON, in the token store's `report` attribute.
#include <fmt/format.h>

#include "loom/data_tools/prepare.hpp"

namespace loom::data_tools {
namespace {

constexpr double kMB = 1024.0 * 1024.0;

nlohmann::json split_json(const SplitCounts& counts) {
  return {{"documents", counts.documents},
          {"characters", counts.characters},
          {"tokens", counts.tokens}};
}

double percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

nlohmann::json PrepareReport::to_json() const {
  return {{"store", store_path},
          {"tokenizer", tokenizer},
          {"vocab_size", vocab_size},
          {"train", split_json(train)},
          {"val", split_json(val)},
          {"unknown_tokens", unknown_tokens},
          {"invalid_utf8", invalid_utf8},
          {"input_bytes", input_bytes},
          {"input_files", input_files},
          {"filters", filters.to_json()},
          {"split_note", split_note},
          {"threads", threads},
          {"vocab_seconds", vocab_seconds},
          {"tokenize_seconds", tokenize_seconds},
          {"total_seconds", total_seconds}};
}

std::string PrepareReport::to_text() const {
  const std::uint64_t tokens = train.tokens + val.tokens;
  std::string text =
      fmt::format("prepared {}: {} tokenizer, vocabulary {}\n", store_path, tokenizer, vocab_size);
  text +=
      fmt::format("  {:<6} {:>12} {:>15} {:>15}\n", "split", "documents", "characters", "tokens");
  text += fmt::format("  {:<6} {:>12} {:>15} {:>15}\n", "train", train.documents, train.characters,
                      train.tokens);
  text += fmt::format("  {:<6} {:>12} {:>15} {:>15}\n", "val", val.documents, val.characters,
                      val.tokens);
  if (!split_note.empty()) text += fmt::format("  note: {}\n", split_note);
  text += fmt::format("  unknown: {} tokens ({:.4f}%), invalid UTF-8: {} sequences\n",
                      unknown_tokens, percent(unknown_tokens, tokens), invalid_utf8);
  const FilterCounts& f = filters;
  if (f.records_in != f.records_out || f.urls_removed || f.mentions_removed ||
      f.code_blocks_removed) {
    text += fmt::format(
        "  cleaning: {} of {} messages/lines kept; removed {} links, {} mentions, {} code "
        "blocks; dropped {} empty, {} short, {} duplicates\n",
        f.records_out, f.records_in, f.urls_removed, f.mentions_removed, f.code_blocks_removed,
        f.dropped_empty, f.dropped_short, f.dropped_duplicate);
  }
  text += fmt::format(
      "  {:.1f} MB from {} input{} in {:.2f} s ({:.1f} MB/s; vocabulary {:.2f} s, tokenizing "
      "{:.2f} s, {} thread{})\n",
      input_bytes / kMB, input_files, input_files == 1 ? "" : "s", total_seconds,
      input_bytes / kMB / std::max(total_seconds, 1e-9), vocab_seconds, tokenize_seconds, threads,
      threads == 1 ? "" : "s");
  return text;
}

}  // namespace loom::data_tools
