// The UTF-8 policy: each maximal invalid subsequence is one U+FFFD, and the
// helpers built on decode_utf8 (counting, repairing, safe cuts) agree.
#include "loom/text/utf8.hpp"

#include <string>
#include <vector>

#include "text_fixtures.hpp"
#include <gtest/gtest.h>

namespace loom::text {
namespace {

using namespace loom::test;

struct Unit {
  char32_t code_point;
  std::uint32_t length;
  bool valid;
  bool operator==(const Unit& other) const {
    return code_point == other.code_point && length == other.length && valid == other.valid;
  }
};

std::vector<Unit> units_of(const std::string& text) {
  std::vector<Unit> units;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const Utf8Unit unit = decode_utf8(p, end);
    units.push_back({unit.code_point, unit.length, unit.valid});
    p += unit.length;
  }
  return units;
}

constexpr Unit kBad1{kReplacementCharacter, 1, false};

TEST(Utf8, DecodesEveryLengthAtItsLimits) {
  EXPECT_EQ(units_of("\x7F"), (std::vector<Unit>{{0x7F, 1, true}}));
  EXPECT_EQ(units_of("\xC2\x80\xDF\xBF"), (std::vector<Unit>{{0x80, 2, true}, {0x7FF, 2, true}}));
  EXPECT_EQ(units_of("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"),
            (std::vector<Unit>{
                {0x800, 3, true}, {0xD7FF, 3, true}, {0xE000, 3, true}, {0xFFFF, 3, true}}));
  EXPECT_EQ(units_of("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"),
            (std::vector<Unit>{{0x10000, 4, true}, {0x10FFFF, 4, true}}));
}

TEST(Utf8, SequenceTruncatedAtTheEndIsOneReplacement) {
  EXPECT_EQ(units_of("a\xE4\xB8"), (std::vector<Unit>{{'a', 1, true}, {0xFFFD, 2, false}}));
  EXPECT_EQ(units_of("\xF0\x9F\x8C"), (std::vector<Unit>{{0xFFFD, 3, false}}));
}

TEST(Utf8, SequenceCutShortByAnotherCharacterLeavesThatCharacter) {
  EXPECT_EQ(units_of("\xE4\xB8z"), (std::vector<Unit>{{0xFFFD, 2, false}, {'z', 1, true}}));
  EXPECT_EQ(units_of("\xC3\xE4\xB8\xAD"),
            (std::vector<Unit>{{0xFFFD, 1, false}, {0x4E2D, 3, true}}));
}

TEST(Utf8, LoneContinuationBytesAreOneReplacementEach) {
  EXPECT_EQ(units_of("\x80"), (std::vector<Unit>{kBad1}));
  EXPECT_EQ(units_of("a\x80\xBF"), (std::vector<Unit>{{'a', 1, true}, kBad1, kBad1}));
}

TEST(Utf8, OverlongFormsAreInvalidByteByByte) {
  // C0 and C1 can only start overlong forms; E0 80 and F0 80 are overlong
  // from their second byte, so the lead is the whole maximal subpart.
  EXPECT_EQ(units_of("\xC0\xAF"), (std::vector<Unit>{kBad1, kBad1}));
  EXPECT_EQ(units_of("\xE0\x80\xAF"), (std::vector<Unit>{kBad1, kBad1, kBad1}));
  EXPECT_EQ(units_of("\xF0\x80\x80\xAF"), (std::vector<Unit>{kBad1, kBad1, kBad1, kBad1}));
}

TEST(Utf8, SurrogatesAndValuesAboveTheLastCodePointAreInvalid) {
  EXPECT_EQ(units_of("\xED\xA0\x80"), (std::vector<Unit>{kBad1, kBad1, kBad1}));
  EXPECT_EQ(units_of("\xED\xBF\xBF"), (std::vector<Unit>{kBad1, kBad1, kBad1}));
  EXPECT_EQ(units_of("\xF4\x90\x80\x80"), (std::vector<Unit>{kBad1, kBad1, kBad1, kBad1}));
  EXPECT_EQ(units_of("\xF5\xFE\xFF"), (std::vector<Unit>{kBad1, kBad1, kBad1}));
}

TEST(Utf8, CountsCharactersAndInvalidSubsequences) {
  const Utf8Counts counts = count_utf8("0123456789abcdef\xE4\xB8\xAD\xE4\xB8 \x80\xC0\xAF!");
  EXPECT_EQ(counts.characters, 16u + 1 + 1 + 1 + 1 + 2 + 1);
  EXPECT_EQ(counts.invalid, 4u);
  EXPECT_EQ(count_utf8(kMixedText).invalid, 0u);
  EXPECT_EQ(count_utf8("").characters, 0u);
}

TEST(Utf8, ReplacesEachInvalidSubsequenceWithOneReplacementCharacter) {
  EXPECT_EQ(replace_invalid_utf8("a\xE4\xB8z\x80\xED\xA0\x80\xE4\xB8"),
            "a\uFFFDz\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(replace_invalid_utf8(kMixedText), kMixedText);
}

TEST(Utf8, AppendsWhatItDecodes) {
  for (char32_t code_point : {0x0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF,
                              0x10000, 0x1F339, 0x10FFFF}) {
    std::string text;
    append_utf8(code_point, text);
    EXPECT_EQ(units_of(text),
              (std::vector<Unit>{{code_point, static_cast<std::uint32_t>(text.size()), true}}))
        << std::hex << code_point;
  }
}

TEST(Utf8, SafeCutNeverSplitsAUnit) {
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x8C\xB9\x80\x80\x80\x80\xE4\xB8z";
  const std::vector<std::size_t> expected_cuts = {0, 1,  1,  3,  3,  3,  6,  6,  6,
                                                  6, 10, 11, 12, 13, 14, 14, 16, 17};
  for (std::size_t max_bytes = 0; max_bytes <= text.size() + 1; ++max_bytes) {
    const std::size_t cut = utf8_safe_cut(text, max_bytes);
    EXPECT_EQ(cut, expected_cuts[std::min(max_bytes, text.size())]) << max_bytes;
    std::vector<Unit> halves = units_of(text.substr(0, cut));
    const std::vector<Unit> second = units_of(text.substr(cut));
    halves.insert(halves.end(), second.begin(), second.end());
    EXPECT_EQ(halves, units_of(text)) << max_bytes;
  }
}

TEST(Utf8, StreamDecoderHoldsACharacterBackUntilItsLastByte) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.add("a\xF0\x9F"), "a");
  EXPECT_EQ(decoder.add("\x8C"), "");
  EXPECT_EQ(decoder.add("\xB9!"), "\xF0\x9F\x8C\xB9!");
  EXPECT_EQ(decoder.flush(), "");
}

TEST(Utf8, StreamDecoderReplacesWhatCanNeverBecomeACharacter) {
  Utf8StreamDecoder decoder;
  // A lone continuation byte and an overlong lead cannot begin a character:
  // each is U+FFFD at once. A lead broken by the next piece is too.
  EXPECT_EQ(decoder.add("\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(decoder.add("\xC0"), "\xEF\xBF\xBD");
  EXPECT_EQ(decoder.add("\xE4"), "");
  EXPECT_EQ(decoder.add("z"), "\xEF\xBF\xBDz");
  // A character still unfinished when the stream ends is one U+FFFD.
  EXPECT_EQ(decoder.add("\xE4\xB8"), "");
  EXPECT_EQ(decoder.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(decoder.flush(), "");
}

TEST(Utf8, StreamDecoderPiecesJoinToTheRepairedTextWhereverTheCuts) {
  const std::string text = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x8C\xB9\x80\xE0\x80\xE4\xB8z\xF0\x9F";
  const std::string repaired = replace_invalid_utf8(text);
  for (std::size_t first = 0; first <= text.size(); ++first) {
    for (std::size_t second = first; second <= text.size(); ++second) {
      Utf8StreamDecoder decoder;
      const std::vector<std::string> pieces = {decoder.add(text.substr(0, first)),
                                               decoder.add(text.substr(first, second - first)),
                                               decoder.add(text.substr(second)), decoder.flush()};
      std::string joined;
      for (const std::string& piece : pieces) {
        EXPECT_EQ(count_utf8(piece).invalid, 0u) << first << " " << second;
        joined += piece;
      }
      EXPECT_EQ(joined, repaired) << first << " " << second;
    }
  }
}

}  // namespace
}  // namespace loom::text
