// The cleaning filters, one at a time and together: exact texts out, and
// every removal and drop counted.
#include "loom/data_tools/filters.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace loom::data_tools {
namespace {

using Texts = std::vector<std::string>;

Record line(const std::string& text, bool starts_document = false) {
  Record record;
  record.text = text;
  record.starts_document = starts_document;
  return record;
}

// The texts `filter` keeps of `records`, in order.
Texts kept(RecordFilter& filter, const std::vector<Record>& records) {
  Texts texts;
  for (Record record : records) {
    if (filter.keep(record)) texts.push_back(record.text);
  }
  return texts;
}

Texts kept(RecordFilter& filter, const Texts& texts) {
  std::vector<Record> records;
  for (const std::string& text : texts)
    records.push_back(line(text));
  return kept(filter, records);
}

// A case of the table below: `input` through a filter with the options
// `set_options` sets keeps `expected`, and each count named in `counts` (by
// its name in FilterCounts::to_json()) holds the value given; counts not
// named are not checked.
struct FilterCase {
  const char* name;
  void (*set_options)(FilterOptions&);
  Texts input;
  Texts expected;
  nlohmann::json counts;
};

void PrintTo(const FilterCase& filter_case, std::ostream* out) {
  *out << filter_case.name;
}

// Invalid as the tokenizers judge it: a truncated sequence, a byte no UTF-8
// has, an overlong form, a surrogate, a value above U+10FFFF.
const Texts kInvalidUtf8{"ABC\xC3(\xFF e\xCC\x81", "A\xC0\xAF", "A\xED\xA0\x80",
                         "A\xF4\x90\x80\x80"};

Texts plus(Texts texts, const std::string& text) {
  texts.push_back(text);
  return texts;
}

const FilterCase kFilterCases[] = {
    {"WithNoOptionsEveryRecordPassesUnchanged",
     [](FilterOptions&) {},
     {"  indented ", "", "https://x.org @bob ```", "ÀÉÎ", "same", "same"},
     {"  indented ", "", "https://x.org @bob ```", "ÀÉÎ", "same", "same"},
     {{"records_in", 6}, {"records_out", 6}}},
    {"UrlsAreRemovedWithTheSpaceAfterThem",
     [](FilterOptions& options) { options.drop_urls = true; },
     {"see https://example.org/a?b=1 now", "HTTP://X.ORG first", "last www.example.com",
      "(https://x.org/y) ok", "awww.cute and http:/no and https:x", "http://a.b\thttps://c.d",
      "https://only.link"},
     {"see now", "first", "last", "( ok", "awww.cute and http:/no and https:x"},
     {{"urls_removed", 7}, {"dropped_empty", 2}, {"records_out", 5}}},
    {"MentionsAreRemovedButNotEmailAddresses",
     [](FilterOptions& options) { options.drop_mentions = true; },
     {"@bob hi", "thanks @alice.w.", "mail bob@example.com",
      "<@123> <@!456>: look at <#789> with <@&42>", "<#abc> <#> @ alone", "@everyone"},
     {"hi", "thanks .", "mail bob@example.com", ": look at with", "<#abc> <#> @ alone"},
     {{"mentions_removed", 7}, {"dropped_empty", 1}}},
    {"CodeBlocksWithinARecord",
     [](FilterOptions& options) { options.drop_code_blocks = true; },
     {"before ```py\nprint(1)\n``` after", "a ```x``` b ```y``` c", "```\ncode only\n```",
      "open ```\nnever closed", "next message"},
     {"before after", "a b c", "open", "next message"},
     {{"code_blocks_removed", 5}, {"dropped_empty", 1}}},
    {"DropEmptyAndMinChars",
     [](FilterOptions& options) {
       options.drop_empty = true;
       options.min_chars = 3;
     },
     {"", " \t ", "ab", "abc", "日本", "日本語", "  x  "},
     {"abc", "日本語", "  x  "},
     {{"dropped_empty", 2}, {"dropped_short", 2}}},
    // Each maximal invalid subsequence is one character (one U+FFFD): two
    // stray continuation bytes are two, a truncated character one.
    {"MinCharsCountsCharactersAsTheTokenizerDoes",
     [](FilterOptions& options) { options.min_chars = 2; },
     {"\x80\x80", "\xE2\x82", "\xC3\xA9\x80", "\xF0\x9F\x98", "\xC3\xA9", "\xC0\xAF"},
     {"\x80\x80", "\xC3\xA9\x80", "\xC0\xAF"},
     {{"dropped_short", 3}}},
    {"LowercaseCoversAllScripts",
     [](FilterOptions& options) { options.lowercase = true; },
     {"ÀÉÎ", "HELLO World", "ΣΟΦΊΑ", "ДОМ", "ǅ"},
     {"àéî", "hello world", "σοφία", "дом", "ǆ"},
     nlohmann::json::object()},
    // "e" + U+0301 becomes "é", one character: too short after composition.
    {"NfcComposesCharacters",
     [](FilterOptions& options) {
       options.nfc = true;
       options.min_chars = 2;
     },
     {"caf\x65\xCC\x81", "e\xCC\x81", "\xE1\x84\x80\xE1\x85\xA1x"},
     {"caf\xC3\xA9", "\xEA\xB0\x80x"},
     {{"dropped_short", 1}}},
    {"InvalidUtf8IsLeftAsItIsAndCounted",
     [](FilterOptions& options) {
       options.lowercase = true;
       options.nfc = true;
     },
     plus(kInvalidUtf8, "OK\xC3\x89"),
     plus(kInvalidUtf8, "ok\xC3\xA9"),
     {{"invalid_utf8", 4}}},
    {"NfcAloneLeavesInvalidUtf8AsItIsAndCountsIt",
     [](FilterOptions& options) { options.nfc = true; },
     kInvalidUtf8,
     kInvalidUtf8,
     {{"invalid_utf8", 4}}},
    {"DedupComparesFinalTextsAndSparesBlankRecords",
     [](FilterOptions& options) {
       options.dedup = true;
       options.lowercase = true;
       options.drop_urls = true;
     },
     {"Hello", "", "hello", "HELLO https://x.org", "", "hello!"},
     {"hello", "", "", "hello!"},
     {{"dropped_duplicate", 2}, {"urls_removed", 1}}},
};

class RecordFilterCase : public ::testing::TestWithParam<FilterCase> {};

TEST_P(RecordFilterCase, KeepsTheExpectedTextsAndCounts) {
  const FilterCase& filter_case = GetParam();
  FilterOptions options;
  filter_case.set_options(options);
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, filter_case.input), filter_case.expected);
  const nlohmann::json counts = filter.counts().to_json();
  for (const auto& count : filter_case.counts.items())
    EXPECT_EQ(counts.at(count.key()), count.value()) << count.key();
}

INSTANTIATE_TEST_SUITE_P(Table, RecordFilterCase, ::testing::ValuesIn(kFilterCases),
                         [](const ::testing::TestParamInfo<FilterCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(RecordFilter, CodeBlocksSpanLineRecordsUntilTheirFenceOrDocumentEnd) {
  FilterOptions options;
  options.drop_code_blocks = true;
  RecordFilter filter(options);
  const std::vector<Record> records{line("Some text:", true),
                                    line("```python"),
                                    line("def f():"),
                                    line(""),
                                    line("    return 1"),
                                    line("``` and after"),
                                    line("  indented, kept as is"),
                                    line("```"),
                                    line("unclosed, up to the document's end"),
                                    line("new document", true)};
  EXPECT_EQ(kept(filter, records),
            (Texts{"Some text:", "and after", "  indented, kept as is", "new document"}));
  EXPECT_EQ(filter.counts().code_blocks_removed, 2u);
  EXPECT_EQ(filter.counts().dropped_empty, 6u);
  EXPECT_EQ(filter.counts().records_out, 4u);
}

TEST(RecordFilter, DedupHoldsManyDistinctRecords) {
  FilterOptions options;
  options.dedup = true;
  RecordFilter filter(options);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 100000; ++i) {
      Record record = line("message " + std::to_string(i));
      EXPECT_EQ(filter.keep(record), round == 0);
    }
  }
  EXPECT_EQ(filter.counts().records_out, 100000u);
  EXPECT_EQ(filter.counts().dropped_duplicate, 100000u);
}

TEST(RecordFilter, StepsRunInTheDocumentedOrder) {
  FilterOptions options;
  options.drop_code_blocks = true;
  options.drop_urls = true;
  options.drop_mentions = true;
  options.lowercase = true;
  options.nfc = true;
  options.min_chars = 4;
  options.drop_empty = true;
  options.dedup = true;
  RecordFilter filter(options);
  // The link inside the code block goes with the block, uncounted as a link.
  EXPECT_EQ(kept(filter, Texts{"  @Bob LOOK ```https://x.org``` AT Cafe\xCC\x81 https://y.org  ",
                               "look at café", "@bob ab", "https://z.org"}),
            (Texts{"look at café"}));
  EXPECT_EQ(filter.counts().to_json(), (nlohmann::json{{"records_in", 4},
                                                       {"records_out", 1},
                                                       {"urls_removed", 2},
                                                       {"mentions_removed", 2},
                                                       {"code_blocks_removed", 1},
                                                       {"dropped_empty", 1},
                                                       {"dropped_short", 1},
                                                       {"dropped_duplicate", 1},
                                                       {"invalid_utf8", 0}}));
  EXPECT_EQ(filter.options_json(), (nlohmann::json{{"drop_urls", true},
                                                   {"drop_mentions", true},
                                                   {"drop_code_blocks", true},
                                                   {"min_chars", 4},
                                                   {"drop_empty", true},
                                                   {"dedup", true},
                                                   {"lowercase", true},
                                                   {"nfc", true}}));
}

}  // namespace
}  // namespace loom::data_tools
