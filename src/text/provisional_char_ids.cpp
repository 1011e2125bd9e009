// ProvisionalCharIds: char ids handed out while a corpus streams past, made
// final once the vocabulary is known.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>

#include "char_units.hpp"

#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

constexpr std::size_t kCodePoints = 0x110000;  // U+0000..U+10FFFF; decode_utf8 gives no more

}  // namespace

struct ProvisionalCharIds::Table {
  // Provisional id by code point: 0 (a special's id, never a character's)
  // until the character is first met. Read without a lock by every encoding
  // thread; written once per character, under `assigning`.
  std::unique_ptr<std::atomic<TokenId>[]> ids =
      std::make_unique<std::atomic<TokenId>[]>(kCodePoints);
  std::mutex assigning;
  std::vector<char32_t> code_points;  // by provisional id - kNumSpecialTokens
};

ProvisionalCharIds::ProvisionalCharIds() : table_(std::make_unique<Table>()) {}

ProvisionalCharIds::~ProvisionalCharIds() = default;

TokenId ProvisionalCharIds::assign(char32_t code_point) {
  const std::lock_guard<std::mutex> lock(table_->assigning);
  std::atomic<TokenId>& slot = table_->ids[code_point];
  // Another thread may have met the character between our look and the lock.
  TokenId id = slot.load(std::memory_order_relaxed);
  if (id == 0) {
    id = kNumSpecialTokens + static_cast<TokenId>(table_->code_points.size());
    table_->code_points.push_back(code_point);
    // Relaxed is enough: an id carries no other data with it, and finish()
    // reads code_points only after every encode() has returned.
    slot.store(id, std::memory_order_relaxed);
  }
  return id;
}

TokenId ProvisionalCharIds::id_bound() const {
  const std::lock_guard<std::mutex> lock(table_->assigning);
  return kNumSpecialTokens + static_cast<TokenId>(table_->code_points.size());
}

void ProvisionalCharIds::encode(std::string_view text, std::vector<TokenId>& out,
                                EncodeStats* stats) {
  // At most one id per byte: write into that room, then trim.
  const std::size_t start = out.size();
  out.resize(start + text.size());
  TokenId* const first = out.data() + start;
  const std::atomic<TokenId>* const ids = table_->ids.get();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::uint64_t invalid = 0;
  TokenId* const last =
      detail::encode_units(p, p + text.size(), first, invalid, [&](char32_t code_point) {
        const TokenId id = ids[code_point].load(std::memory_order_relaxed);
        return id != 0 ? id : assign(code_point);
      });
  if (stats != nullptr) {
    stats->characters += last - first;
    stats->invalid_utf8 += invalid;
  }
  out.resize(last - out.data());
}

ProvisionalCharIds::Vocabulary ProvisionalCharIds::finish(const std::vector<std::uint64_t>& counts,
                                                          const CharVocabOptions& options) const {
  const std::vector<char32_t>& code_points = table_->code_points;
  auto count_of = [&counts](std::size_t id) { return id < counts.size() ? counts[id] : 0; };
  // In code point order, so the builder's list of characters above the
  // Basic Multilingual Plane grows at its end rather than by inserts.
  std::vector<TokenId> by_code_point(code_points.size());
  std::iota(by_code_point.begin(), by_code_point.end(), kNumSpecialTokens);
  std::sort(by_code_point.begin(), by_code_point.end(), [&](TokenId a, TokenId b) {
    return code_points[a - kNumSpecialTokens] < code_points[b - kNumSpecialTokens];
  });
  CharVocabBuilder builder;
  for (const TokenId id : by_code_point)
    builder.add(code_points[id - kNumSpecialTokens], count_of(id));

  Vocabulary vocabulary;
  vocabulary.tokenizer = builder.build(options);
  vocabulary.final_ids.resize(kNumSpecialTokens + code_points.size());
  std::iota(vocabulary.final_ids.begin(), vocabulary.final_ids.begin() + kNumSpecialTokens, 0);
  // The final id of a character is what the built tokenizer encodes it as:
  // <unk> for one left out, and the same id for U+FFFD met as invalid UTF-8.
  std::string character;
  std::vector<TokenId> encoded;
  for (std::size_t i = 0; i < code_points.size(); ++i) {
    character.clear();
    append_utf8(code_points[i], character);
    encoded.clear();
    vocabulary.tokenizer->encode(character, encoded);
    const TokenId id = kNumSpecialTokens + static_cast<TokenId>(i);
    vocabulary.final_ids[id] = encoded.front();
    if (encoded.front() == kUnkId) vocabulary.unknown += count_of(id);
  }
  return vocabulary;
}

}  // namespace loom::text
