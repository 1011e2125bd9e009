// The char tokenizer and its vocabulary builder: exact vocabularies from
// min_count and max_vocab, ids in code point order, <unk> and invalid UTF-8
// with exact counts, round trips, and encodings independent of where the
// text is cut; provisional ids (prepare's single pass) remapped to exactly
// the ids the built tokenizer gives.
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "text_fixtures.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

using namespace loom::test;

using Ids = std::vector<TokenId>;

std::unique_ptr<Tokenizer> built_on(const std::string& text, const CharVocabOptions& options = {}) {
  CharVocabBuilder builder;
  builder.add(text);
  return builder.build(options);
}

// The vocabulary after the specials, in id order.
std::vector<std::string> vocabulary(const Tokenizer& tokenizer) {
  std::vector<std::string> pieces;
  for (TokenId id = kNumSpecialTokens; id < tokenizer.vocab_size(); ++id)
    pieces.push_back(tokenizer.piece(id));
  return pieces;
}

using Pieces = std::vector<std::string>;

TEST(CharVocabBuilder, CountsCharactersAndDistinctCodePoints) {
  CharVocabBuilder builder;
  builder.add("abca");
  builder.add("\u00e9\U0001F339\U0001F339\xFF");
  EXPECT_EQ(builder.characters(), 8u);
  EXPECT_EQ(builder.distinct(), 6u);  // a b c é 🌹 U+FFFD
}

TEST(CharVocabBuilder, IdsFollowTheSpecialsInCodePointOrder) {
  const auto tokenizer = built_on("\U0001F339b\u4e2d a\n\u00e9");
  EXPECT_EQ(tokenizer->vocab_size(), 11u);
  EXPECT_EQ(vocabulary(*tokenizer),
            (Pieces{"\n", " ", "a", "b", "\u00e9", "\u4e2d", "\U0001F339"}));
  EXPECT_EQ(encode(*tokenizer, "ab\n\U0001F339"), (Ids{6, 7, 4, 10}));
}

TEST(CharVocabBuilder, MinCountTurnsRareCharactersIntoUnk) {
  const auto tokenizer = built_on("aaabbc\u00e9\u00e9\u00e9", {/*min_count=*/2, 0});
  EXPECT_EQ(vocabulary(*tokenizer), (Pieces{"a", "b", "\u00e9"}));
  EXPECT_EQ(encode(*tokenizer, "cab\u00e9"), (Ids{kUnkId, 4, 5, 6}));
}

TEST(CharVocabBuilder, MaxVocabKeepsTheMostFrequentWithTiesToTheLowerCodePoint) {
  // Counts: z 4, y 3, b 2, c 2, a 1; room for 3 after the specials.
  const auto tokenizer = built_on("zzzzyyybbcca", {1, /*max_vocab=*/7});
  EXPECT_EQ(vocabulary(*tokenizer), (Pieces{"b", "y", "z"}));
  EXPECT_EQ(built_on("zzzzyyybbcca", {1, 5})->vocab_size(), 5u);
  EXPECT_EQ(vocabulary(*built_on("zzzzyyybbcca", {1, 5})), (Pieces{"z"}));
  // A cap above the number of characters changes nothing.
  EXPECT_EQ(vocabulary(*built_on("zzzzyyybbcca", {1, 100})), (Pieces{"a", "b", "c", "y", "z"}));
  // Both: min_count first, then the cap.
  EXPECT_EQ(vocabulary(*built_on("zzzzyyybbcca", {3, 100})), (Pieces{"y", "z"}));
}

TEST(CharVocabBuilder, MaxVocabWithoutRoomForCharactersIsAUsageError) {
  CharVocabBuilder builder;
  builder.add("abc");
  EXPECT_EQ(error_message<UsageError>([&] {
              builder.build({1, 4});
            }),
            "char vocabulary: max_vocab 4 leaves no id for any character: the 4 special "
            "tokens take ids 0-3");
}

TEST(CharVocabBuilder, MergeEqualsCountingEverythingInOne) {
  const std::string text = joined(generated_lines(50)) + kMixedText;
  CharVocabBuilder whole;
  whole.add(text);
  const std::size_t half = utf8_safe_cut(text, text.size() / 2);
  CharVocabBuilder first;
  CharVocabBuilder second;
  first.add(text.substr(0, half));
  second.add("\U0001F680");  // only in `second`: its list merges with an empty one
  second.add(text.substr(half));
  first.merge(second);
  whole.add("\U0001F680");
  EXPECT_EQ(first.characters(), whole.characters());
  EXPECT_EQ(first.distinct(), whole.distinct());
  for (std::uint32_t max_vocab : {0u, 12u, 30u}) {
    EXPECT_EQ(first.build({2, max_vocab})->to_json(), whole.build({2, max_vocab})->to_json());
  }
}

TEST(CharVocabBuilder, CountsDoNotDependOnWhereTheTextIsCut) {
  const std::string text = kMixedText + "\xE4\xB8 \x80";
  CharVocabBuilder whole;
  whole.add(text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    if (utf8_safe_cut(text, cut) != cut) continue;
    CharVocabBuilder pieces;
    pieces.add(text.substr(0, cut));
    pieces.add(text.substr(cut));
    EXPECT_EQ(pieces.characters(), whole.characters()) << cut;
    EXPECT_EQ(pieces.build({})->to_json(), whole.build({})->to_json()) << cut;
  }
}

TEST(CharTokenizer, RoundTripsEveryKindOfCharacter) {
  const auto tokenizer = built_on(kMixedText);
  EncodeStats stats;
  const Ids ids = encode(*tokenizer, kMixedText, &stats);
  EXPECT_EQ(tokenizer->decode(ids), kMixedText);
  EXPECT_EQ(stats.characters, count_utf8(kMixedText).characters);
  EXPECT_EQ(stats.unknown, 0u);
  EXPECT_EQ(stats.invalid_utf8, 0u);
  // One id per code point: the ZWJ sequence is three, e + U+0301 two.
  EXPECT_EQ(encode(*tokenizer, "\U0001F469\u200D\U0001F4BB").size(), 3u);
  EXPECT_EQ(encode(*tokenizer, "e\u0301").size(), 2u);
}

TEST(CharTokenizer, UnknownCharactersBecomeUnkAndAreCounted) {
  const auto tokenizer = built_on("ab");
  EncodeStats stats;
  const Ids ids = encode(*tokenizer, "a\u00e9b\U0001F339c", &stats);
  EXPECT_EQ(ids, (Ids{4, kUnkId, 5, kUnkId, kUnkId}));
  EXPECT_EQ(stats.characters, 5u);
  EXPECT_EQ(stats.unknown, 3u);
  EXPECT_EQ(stats.invalid_utf8, 0u);
  EXPECT_EQ(tokenizer->decode(ids), "a<unk>b<unk><unk>");
  EXPECT_EQ(tokenizer->decode(ids, /*skip_special=*/true), "ab");
}

TEST(CharTokenizer, InvalidUtf8IsTheReplacementCharacterWhenTheVocabularyHasIt) {
  const auto tokenizer = built_on("ab\uFFFD");
  EncodeStats stats;
  // Truncated, lone continuation, overlong, surrogate: 1 + 1 + 2 + 3.
  const Ids ids = encode(*tokenizer,
                         "a\xE4\xB8"
                         "b\x80\xC0\xAF\xED\xA0\x80",
                         &stats);
  EXPECT_EQ(ids, (Ids{4, 6, 5, 6, 6, 6, 6, 6, 6}));
  EXPECT_EQ(stats.characters, 9u);
  EXPECT_EQ(stats.invalid_utf8, 7u);
  EXPECT_EQ(stats.unknown, 0u);
  EXPECT_EQ(tokenizer->decode(ids),
            "a\uFFFD"
            "b\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
}

TEST(CharTokenizer, InvalidUtf8IsUnkWhenTheVocabularyLacksTheReplacementCharacter) {
  const auto tokenizer = built_on("ab");
  EncodeStats stats;
  EXPECT_EQ(encode(*tokenizer, "a\xF0\x9F\x8C", &stats), (Ids{4, kUnkId}));
  EXPECT_EQ(stats.invalid_utf8, 1u);
  EXPECT_EQ(stats.unknown, 1u);
}

TEST(CharTokenizer, EncodingDoesNotDependOnWhereTheTextIsCut) {
  const std::string text = kMixedText + "\xE4\xB8 x\x80\xF0\x9F";
  const auto tokenizer = built_on(kMixedText);
  EncodeStats whole_stats;
  const Ids whole = encode(*tokenizer, text, &whole_stats);
  std::size_t boundaries = 0;
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    if (utf8_safe_cut(text, cut) != cut) continue;
    ++boundaries;
    EncodeStats stats;
    Ids ids;
    tokenizer->encode(std::string_view(text).substr(0, cut), ids, &stats);
    tokenizer->encode(std::string_view(text).substr(cut), ids, &stats);
    EXPECT_EQ(ids, whole) << cut;
    EXPECT_EQ(stats.characters, whole_stats.characters) << cut;
    EXPECT_EQ(stats.unknown, whole_stats.unknown) << cut;
    EXPECT_EQ(stats.invalid_utf8, whole_stats.invalid_utf8) << cut;
  }
  EXPECT_EQ(boundaries, whole.size() + 1);
}

TEST(CharTokenizer, EncodeAppendsToWhatIsThere) {
  const auto tokenizer = built_on("ab");
  Ids ids = {kBosId};
  tokenizer->encode("ba", ids);
  EXPECT_EQ(ids, (Ids{kBosId, 5, 4}));
}

TEST(CharTokenizer, PiecesShowEachCharacterAndTheSpecialsByName) {
  const auto tokenizer = built_on("\na\u00e9");
  EXPECT_EQ(tokenizer->kind(), "char");
  EXPECT_EQ(tokenizer->piece(kPadId), "<pad>");
  EXPECT_EQ(tokenizer->piece(kEosId), "<eos>");
  EXPECT_EQ(tokenizer->piece(4), "\n");
  EXPECT_EQ(tokenizer->piece(5), "a");
  EXPECT_EQ(tokenizer->piece(6), "\u00e9");
}

TEST(CharVocabBuilder, CountsAddedByCodePointEqualCountingText) {
  CharVocabBuilder by_code_point;
  by_code_point.add(U'b', 3);
  by_code_point.add(U'\U0001F426', 2);
  by_code_point.add(U'a', 1);
  by_code_point.add(U'\U0001F426', 1);
  by_code_point.add(U'z', 0);  // never seen: no trace
  EXPECT_EQ(by_code_point.characters(), 7u);
  EXPECT_EQ(by_code_point.distinct(), 3u);
  const CharVocabOptions options{2, 0};
  EXPECT_EQ(vocabulary(*by_code_point.build(options)), (Pieces{"b", "🐦"}));
  EXPECT_EQ(vocabulary(*by_code_point.build({})), (Pieces{"a", "b", "🐦"}));
}

// How often each provisional id occurs in `ids`.
std::vector<std::uint64_t> counts_of(const Ids& ids) {
  std::vector<std::uint64_t> counts;
  for (const TokenId id : ids) {
    if (id >= counts.size()) counts.resize(id + 1);
    ++counts[id];
  }
  return counts;
}

Ids remapped(Ids ids, const std::vector<TokenId>& final_ids) {
  for (TokenId& id : ids)
    id = final_ids.at(id);
  return ids;
}

TEST(ProvisionalCharIds, IdsFollowFirstAppearanceAfterTheSpecials) {
  ProvisionalCharIds provisional;
  Ids ids;
  EncodeStats stats;
  provisional.encode(
      "ba\xff\xc3\xa9"
      "b",
      ids, &stats);
  provisional.encode("\xef\xbf\xbd\U0001F426a", ids, &stats);  // a real U+FFFD
  EXPECT_EQ(ids, (Ids{4, 5, 6, 7, 4, 6, 8, 5}));
  EXPECT_EQ(provisional.id_bound(), 9u);
  EXPECT_EQ(stats.characters, 8u);
  EXPECT_EQ(stats.invalid_utf8, 1u);
  EXPECT_EQ(stats.unknown, 0u);
}

// `text` mixes ASCII, two- three- and four-byte characters and invalid
// UTF-8, in an order unlike code point order, so the remap is no identity.
const std::string kMixedText =
    "zebra \xe6\x97\xa5\xe6\x97\xa5 caf\xc3\xa9 \xf0\x9f\x90\xa6 bad\xff "
    "byte\nzz\xc3\xa9\xe2\x82\xac!\n";

class RemappedProvisionalIds : public ::testing::TestWithParam<CharVocabOptions> {};

TEST_P(RemappedProvisionalIds, EqualTheBuiltTokenizersIds) {
  const CharVocabOptions options = GetParam();
  ProvisionalCharIds provisional;
  Ids ids;
  provisional.encode(kMixedText, ids);
  const ProvisionalCharIds::Vocabulary vocabulary = provisional.finish(counts_of(ids), options);

  const std::unique_ptr<Tokenizer> built = built_on(kMixedText, options);
  EXPECT_EQ(vocabulary.tokenizer->to_json(), built->to_json());
  Ids expected;
  EncodeStats stats;
  built->encode(kMixedText, expected, &stats);
  EXPECT_EQ(remapped(ids, vocabulary.final_ids), expected);
  EXPECT_EQ(vocabulary.unknown, stats.unknown);
  EXPECT_EQ(std::vector<TokenId>(vocabulary.final_ids.begin(), vocabulary.final_ids.begin() + 4),
            (std::vector<TokenId>{0, 1, 2, 3}));
}

INSTANTIATE_TEST_SUITE_P(CharVocabOptions, RemappedProvisionalIds,
                         ::testing::Values(CharVocabOptions{1, 0}, CharVocabOptions{2, 0},
                                           CharVocabOptions{1, 9}));

TEST(ProvisionalCharIds, FinalIdsAreInCodePointOrderWithLeftOutCharactersUnknown) {
  ProvisionalCharIds provisional;
  Ids ids;
  provisional.encode(
      "cab\xc3\xa9"
      "c\xff"
      "cb",
      ids);  // first seen: c a b é U+FFFD
  const ProvisionalCharIds::Vocabulary vocabulary = provisional.finish(counts_of(ids), {2, 0});
  // Kept (twice or more): b c; a, é and U+FFFD become <unk>.
  EXPECT_EQ(vocabulary.final_ids, (std::vector<TokenId>{0, 1, 2, 3, 5, 1, 4, 1, 1}));
  EXPECT_EQ(vocabulary.unknown, 3u);
  EXPECT_EQ(vocabulary.tokenizer->vocab_size(), 6u);
}

TEST(ProvisionalCharIds, ThreadsMeetingTheSameCharactersShareTheirIds) {
  // Each thread meets the same characters in its own order, many times, so
  // first meetings race; every character must still get one id.
  std::string forward;
  std::string backward;
  for (char32_t c = 0x20; c < 0x3000; c += 7)
    append_utf8(c, forward);
  for (char32_t c = 0x3000 - 5; c > 0x20; c -= 7)
    append_utf8(c, backward);
  ProvisionalCharIds provisional;
  Ids first;
  Ids second;
  std::thread other([&] {
    for (int i = 0; i < 20; ++i)
      provisional.encode(backward, second);
  });
  for (int i = 0; i < 20; ++i)
    provisional.encode(forward, first);
  other.join();

  Ids all = first;
  all.insert(all.end(), second.begin(), second.end());
  const ProvisionalCharIds::Vocabulary vocabulary = provisional.finish(counts_of(all), {});
  const std::unique_ptr<Tokenizer> built = built_on(forward + backward);
  Ids expected_first;
  Ids expected_second;
  for (int i = 0; i < 20; ++i) {
    built->encode(forward, expected_first);
    built->encode(backward, expected_second);
  }
  EXPECT_EQ(remapped(first, vocabulary.final_ids), expected_first);
  EXPECT_EQ(remapped(second, vocabulary.final_ids), expected_second);
  EXPECT_EQ(vocabulary.tokenizer->vocab_size(), built->vocab_size());
  EXPECT_EQ(vocabulary.final_ids.size(), built->vocab_size());  // one provisional id each
}

}  // namespace
}  // namespace loom::text
