// The cleaning filters, one at a time and together: exact texts out, and
// every removal and drop counted.
#include "loom/data_tools/filters.hpp"

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

TEST(RecordFilter, WithNoOptionsEveryRecordPassesUnchanged) {
  RecordFilter filter(FilterOptions{});
  const Texts texts{"  indented ", "", "https://x.org @bob ```", "ÀÉÎ", "same", "same"};
  EXPECT_EQ(kept(filter, texts), texts);
  EXPECT_EQ(filter.counts().records_in, 6u);
  EXPECT_EQ(filter.counts().records_out, 6u);
}

TEST(RecordFilter, UrlsAreRemovedWithTheSpaceAfterThem) {
  FilterOptions options;
  options.drop_urls = true;
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, Texts{"see https://example.org/a?b=1 now", "HTTP://X.ORG first",
                               "last www.example.com", "(https://x.org/y) ok",
                               "awww.cute and http:/no and https:x", "http://a.b\thttps://c.d",
                               "https://only.link"}),
            (Texts{"see now", "first", "last", "( ok", "awww.cute and http:/no and https:x"}));
  EXPECT_EQ(filter.counts().urls_removed, 7u);
  EXPECT_EQ(filter.counts().dropped_empty, 2u);
  EXPECT_EQ(filter.counts().records_out, 5u);
}

TEST(RecordFilter, MentionsAreRemovedButNotEmailAddresses) {
  FilterOptions options;
  options.drop_mentions = true;
  RecordFilter filter(options);
  EXPECT_EQ(
      kept(filter,
           Texts{"@bob hi", "thanks @alice.w.", "mail bob@example.com",
                 "<@123> <@!456>: look at <#789> with <@&42>", "<#abc> <#> @ alone", "@everyone"}),
      (Texts{"hi", "thanks .", "mail bob@example.com", ": look at with", "<#abc> <#> @ alone"}));
  EXPECT_EQ(filter.counts().mentions_removed, 7u);
  EXPECT_EQ(filter.counts().dropped_empty, 1u);
}

TEST(RecordFilter, CodeBlocksWithinARecord) {
  FilterOptions options;
  options.drop_code_blocks = true;
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, Texts{"before ```py\nprint(1)\n``` after", "a ```x``` b ```y``` c",
                               "```\ncode only\n```", "open ```\nnever closed", "next message"}),
            (Texts{"before after", "a b c", "open", "next message"}));
  EXPECT_EQ(filter.counts().code_blocks_removed, 5u);
  EXPECT_EQ(filter.counts().dropped_empty, 1u);
}

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

TEST(RecordFilter, DropEmptyAndMinChars) {
  FilterOptions options;
  options.drop_empty = true;
  options.min_chars = 3;
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, Texts{"", " \t ", "ab", "abc", "日本", "日本語", "  x  "}),
            (Texts{"abc", "日本語", "  x  "}));
  EXPECT_EQ(filter.counts().dropped_empty, 2u);
  EXPECT_EQ(filter.counts().dropped_short, 2u);
}

TEST(RecordFilter, MinCharsCountsCharactersAsTheTokenizerDoes) {
  FilterOptions options;
  options.min_chars = 2;
  RecordFilter filter(options);
  // Each maximal invalid subsequence is one character (one U+FFFD): two
  // stray continuation bytes are two, a truncated character one.
  EXPECT_EQ(kept(filter, Texts{"\x80\x80", "\xE2\x82", "\xC3\xA9\x80", "\xF0\x9F\x98", "\xC3\xA9",
                               "\xC0\xAF"}),
            (Texts{"\x80\x80", "\xC3\xA9\x80", "\xC0\xAF"}));
  EXPECT_EQ(filter.counts().dropped_short, 3u);
}

TEST(RecordFilter, LowercaseCoversAllScripts) {
  FilterOptions options;
  options.lowercase = true;
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, Texts{"ÀÉÎ", "HELLO World", "ΣΟΦΊΑ", "ДОМ", "ǅ"}),
            (Texts{"àéî", "hello world", "σοφία", "дом", "ǆ"}));
}

TEST(RecordFilter, NfcComposesCharacters) {
  FilterOptions options;
  options.nfc = true;
  options.min_chars = 2;
  RecordFilter filter(options);
  // "e" + U+0301 becomes "é", one character: too short after composition.
  EXPECT_EQ(kept(filter, Texts{"caf\x65\xCC\x81", "e\xCC\x81", "\xE1\x84\x80\xE1\x85\xA1x"}),
            (Texts{"caf\xC3\xA9", "\xEA\xB0\x80x"}));
  EXPECT_EQ(filter.counts().dropped_short, 1u);
}

TEST(RecordFilter, InvalidUtf8IsLeftAsItIsAndCounted) {
  FilterOptions options;
  options.lowercase = true;
  options.nfc = true;
  RecordFilter filter(options);
  // Invalid as the tokenizers judge it: a truncated sequence, a byte no
  // UTF-8 has, an overlong form, a surrogate, a value above U+10FFFF.
  const Texts broken{"ABC\xC3(\xFF e\xCC\x81", "A\xC0\xAF", "A\xED\xA0\x80", "A\xF4\x90\x80\x80"};
  Texts texts = broken;
  texts.push_back("OK\xC3\x89");
  Texts expected = broken;
  expected.push_back("ok\xC3\xA9");
  EXPECT_EQ(kept(filter, texts), expected);
  EXPECT_EQ(filter.counts().invalid_utf8, 4u);
  // NFC alone refuses the same texts.
  FilterOptions nfc_only;
  nfc_only.nfc = true;
  RecordFilter nfc_filter(nfc_only);
  EXPECT_EQ(kept(nfc_filter, broken), broken);
  EXPECT_EQ(nfc_filter.counts().invalid_utf8, 4u);
}

TEST(RecordFilter, DedupComparesFinalTextsAndSparesBlankRecords) {
  FilterOptions options;
  options.dedup = true;
  options.lowercase = true;
  options.drop_urls = true;
  RecordFilter filter(options);
  EXPECT_EQ(kept(filter, Texts{"Hello", "", "hello", "HELLO https://x.org", "", "hello!"}),
            (Texts{"hello", "", "", "hello!"}));
  EXPECT_EQ(filter.counts().dropped_duplicate, 2u);
  EXPECT_EQ(filter.counts().urls_removed, 1u);
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
