// CharVocabBuilder: counts code points as the corpus streams past, then
// picks the char vocabulary. Counting reads UTF-8 under the same policy as
// encoding, so every character the vocabulary was built from encodes.
#include <algorithm>

#include "tokenizer_kinds.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

using CodePointCount = std::pair<char32_t, std::uint64_t>;

bool by_code_point(const CodePointCount& entry, char32_t code_point) {
  return entry.first < code_point;
}

}  // namespace

void CharVocabBuilder::add(std::string_view text) {
  std::uint64_t* const bmp_counts = bmp_counts_.data();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  std::uint64_t units = 0;
  while (p < end) {
    ++units;
    if (*p < 0x80) {
      ++bmp_counts[*p++];
      continue;
    }
    const Utf8Unit unit = decode_utf8(p, end);
    p += unit.length;
    if (unit.code_point < bmp_counts_.size()) {
      ++bmp_counts[unit.code_point];
    } else {
      count_supplementary(unit.code_point, 1);
    }
  }
  characters_ += units;
}

void CharVocabBuilder::add(char32_t code_point, std::uint64_t count) {
  if (count == 0) return;  // a count of zero leaves no trace in distinct() or build()
  if (code_point < bmp_counts_.size()) {
    bmp_counts_[code_point] += count;
  } else {
    count_supplementary(code_point, count);
  }
  characters_ += count;
}

void CharVocabBuilder::count_supplementary(char32_t code_point, std::uint64_t count) {
  const auto found = std::lower_bound(supplementary_counts_.begin(), supplementary_counts_.end(),
                                      code_point, by_code_point);
  if (found != supplementary_counts_.end() && found->first == code_point) {
    found->second += count;
  } else {
    supplementary_counts_.insert(found, {code_point, count});
  }
}

void CharVocabBuilder::merge(const CharVocabBuilder& other) {
  for (std::size_t i = 0; i < bmp_counts_.size(); ++i)
    bmp_counts_[i] += other.bmp_counts_[i];
  std::vector<CodePointCount> merged;
  merged.reserve(supplementary_counts_.size() + other.supplementary_counts_.size());
  auto mine = supplementary_counts_.begin();
  auto theirs = other.supplementary_counts_.begin();
  while (mine != supplementary_counts_.end() || theirs != other.supplementary_counts_.end()) {
    if (theirs == other.supplementary_counts_.end() ||
        (mine != supplementary_counts_.end() && mine->first < theirs->first)) {
      merged.push_back(*mine++);
    } else if (mine == supplementary_counts_.end() || theirs->first < mine->first) {
      merged.push_back(*theirs++);
    } else {
      merged.emplace_back(mine->first, mine->second + theirs->second);
      ++mine;
      ++theirs;
    }
  }
  supplementary_counts_ = std::move(merged);
  characters_ += other.characters_;
}

std::uint64_t CharVocabBuilder::characters() const {
  return characters_;
}

std::uint64_t CharVocabBuilder::distinct() const {
  const auto seen_in_bmp = std::count_if(bmp_counts_.begin(), bmp_counts_.end(),
                                         [](std::uint64_t count) { return count > 0; });
  return static_cast<std::uint64_t>(seen_in_bmp) + supplementary_counts_.size();
}

std::unique_ptr<Tokenizer> CharVocabBuilder::build(const CharVocabOptions& options) const {
  if (options.max_vocab != 0 && options.max_vocab <= kNumSpecialTokens) {
    throw UsageError(fmt::format(
        "char vocabulary: max_vocab {} leaves no id for any character: the {} special tokens "
        "take ids 0-{}",
        options.max_vocab, kNumSpecialTokens, kNumSpecialTokens - 1));
  }
  // Only code points actually seen, however low min_count is.
  const std::uint64_t min_count = std::max<std::uint64_t>(options.min_count, 1);
  std::vector<CodePointCount> kept;
  for (std::size_t code_point = 0; code_point < bmp_counts_.size(); ++code_point) {
    if (bmp_counts_[code_point] >= min_count)
      kept.emplace_back(static_cast<char32_t>(code_point), bmp_counts_[code_point]);
  }
  for (const CodePointCount& entry : supplementary_counts_) {
    if (entry.second >= min_count) kept.push_back(entry);
  }
  if (options.max_vocab != 0 && kept.size() > options.max_vocab - kNumSpecialTokens) {
    // `kept` is in code point order, so a stable sort by count breaks ties
    // toward the lower code point.
    std::stable_sort(
        kept.begin(), kept.end(),
        [](const CodePointCount& a, const CodePointCount& b) { return a.second > b.second; });
    kept.resize(options.max_vocab - kNumSpecialTokens);
    std::sort(kept.begin(), kept.end());
  }
  std::vector<char32_t> chars;
  chars.reserve(kept.size());
  for (const CodePointCount& entry : kept)
    chars.push_back(entry.first);
  return detail::make_char_tokenizer(chars);
}

}  // namespace loom::text
