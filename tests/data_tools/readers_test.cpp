// The plain-text and JSONL readers and what they share: line endings,
// documents, long lines cut between UTF-8 units (invalid bytes included),
// gzip and zstd input giving the same records as plain files, and located
// errors that are runtime failures (exit code 1).
#include <string>
#include <vector>

#include "corpus_test_support.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "loom/data_tools/record_reader.hpp"
#include "loom/text/utf8.hpp"

namespace loom::data_tools {
namespace {

using namespace loom::test;

ReaderOptions with_limit(std::size_t max_record_bytes) {
  ReaderOptions options;
  options.max_record_bytes = max_record_bytes;
  return options;
}

TEST(TextReader, SeparatorLinesEndDocumentsAndAreDropped) {
  TempDir dir;
  write_file(dir.file("stories.txt"),
             "Once upon a time.\nThe end.\n<|endoftext|>\nA second story.\n<|endoftext|>  \r\n"
             "<|endoftext|>\nLast one.\n<|endoftext|>\n");
  EXPECT_EQ(read_inputs({dir.file("stories.txt")}),
            (Lines{"# Once upon a time.", "  The end.", "# A second story.", "# Last one."}));
}

TEST(TextReader, LinesMerelyContainingTheSeparatorAreText) {
  TempDir dir;
  write_file(dir.file("a.txt"), "x <|endoftext|>\n<|endoftext|> y\n");
  EXPECT_EQ(read_inputs({dir.file("a.txt")}), (Lines{"# x <|endoftext|>", "  <|endoftext|> y"}));
}

TEST(TextReader, CrlfEndingsBlankLinesAndALastLineWithoutNewline) {
  TempDir dir;
  write_file(dir.file("a.txt"), "first\r\n\r\nthird\r\nlast");
  EXPECT_EQ(read_inputs({dir.file("a.txt")}), (Lines{"# first", "  ", "  third", "  last"}));
}

TEST(TextReader, ByteOrderMarkIsDropped) {
  TempDir dir;
  write_file(dir.file("a.txt"), "\xEF\xBB\xBFhello\n");
  EXPECT_EQ(read_inputs({dir.file("a.txt")}), (Lines{"# hello"}));
}

TEST(TextReader, EmptySeparatorMakesEachFileOneDocument) {
  TempDir dir;
  write_file(dir.file("a.txt"), "one\n<|endoftext|>\ntwo\n");
  write_file(dir.file("b.txt"), "three\n");
  ReaderOptions options;
  options.separator = "";
  EXPECT_EQ(read_inputs({dir.file("a.txt"), dir.file("b.txt")}, "auto", options),
            (Lines{"# one", "  <|endoftext|>", "  two", "# three"}));
}

TEST(TextReader, EveryFileStartsADocumentAndEmptyFilesGiveNothing) {
  TempDir dir;
  write_file(dir.file("a.txt"), "no separator at the end");
  write_file(dir.file("b.txt"), "");
  write_file(dir.file("c.txt"), "<|endoftext|>\nc\n");
  EXPECT_EQ(read_inputs({dir.file("a.txt"), dir.file("b.txt"), dir.file("c.txt")}),
            (Lines{"# no separator at the end", "# c"}));
}

TEST(TextReader, LongLinesAreCutAtCharacterBoundaries) {
  TempDir dir;
  // With an 8-byte limit, "é" (2 bytes) would straddle bytes 8-9 and the
  // emoji (4 bytes) bytes 7-10: each moves whole into the next piece.
  write_file(dir.file("a.txt"),
             "abcdefg\xC3\xA9hij\nabcdef\xF0\x9F\x98\x80xyz\nexactly8\n12345678\r\n123456789\n");
  EXPECT_EQ(read_inputs({dir.file("a.txt")}, "auto", with_limit(8)),
            (Lines{"# abcdefg", "+ \xC3\xA9hij", "  abcdef", "+ \xF0\x9F\x98\x80xyz", "  exactly8",
                   "  12345678", "  12345678", "+ 9"}));
}

TEST(TextReader, ALongLineStartingWithTheSeparatorIsText) {
  TempDir dir;
  // Cut at 14 bytes, its first piece is the separator alone; the line is not
  // one (found by fuzz/corpus_text).
  write_file(dir.file("a.txt"), "story\n<|endoftext|>\xC3\xA9 and more\n<|endoftext|>\nnext\n");
  EXPECT_EQ(read_inputs({dir.file("a.txt")}, "auto", with_limit(14)),
            (Lines{"# story", "  <|endoftext|>", "+ \xC3\xA9 and more", "# next"}));
}

TEST(TextReader, InvalidBytesAreCutBetweenUnitsAsTheTokenizerReadsThem) {
  TempDir dir;
  // With an 8-byte limit: a truncated emoji (a maximal invalid subsequence,
  // one U+FFFD to the tokenizer) straddling the limit moves whole; stray
  // continuation bytes are units of their own, so "é" before them stays and
  // a run of them is cut anywhere.
  const std::vector<std::string> lines{"abcdefg\xF0\x9F\x98z", "abcdef\xC3\xA9\x80\x80xy",
                                       "ab" + std::string(8, '\x80') + "cd"};
  write_file(dir.file("a.txt"), lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n");
  const Lines records = read_inputs({dir.file("a.txt")}, "auto", with_limit(8));
  ASSERT_EQ(records,
            (Lines{"# abcdefg", "+ \xF0\x9F\x98z", "  abcdef\xC3\xA9", "+ \x80\x80xy",
                   "  ab" + std::string(6, '\x80'), "+ " + std::string(2, '\x80') + "cd"}));
  // The pieces of each line decode to the units of the whole line.
  std::size_t record = 0;
  for (const std::string& line : lines) {
    const text::Utf8Counts whole = text::count_utf8(line);
    text::Utf8Counts pieces;
    for (int piece = 0; piece < 2; ++piece, ++record) {
      const text::Utf8Counts counts = text::count_utf8(records[record].substr(2));
      pieces.characters += counts.characters;
      pieces.invalid += counts.invalid;
    }
    EXPECT_EQ(pieces.characters, whole.characters) << line;
    EXPECT_EQ(pieces.invalid, whole.invalid) << line;
  }
}

TEST(TextReader, LinesOverTheDefaultLimitSpanBlocksAndAreCut) {
  TempDir dir;
  // 2.5 MiB in one line, a 3-byte character straddling the 1 MiB limit; the
  // file's 1 MiB blocks split lines too.
  const std::string head(kMaxRecordBytes - 1, 'a');
  const std::string euro = "\xE2\x82\xAC";
  const std::string tail(kMaxRecordBytes + kMaxRecordBytes / 2, 'b');
  write_file(dir.file("big.txt"), "short\n" + head + euro + tail + "\nafter\n");
  const std::unique_ptr<RecordReader> reader =
      open_records(resolve_inputs({dir.file("big.txt")}, "text"), ReaderOptions{});
  std::vector<Record> records;
  for (Record record; reader->next(record);)
    records.push_back(record);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].text, "short");
  EXPECT_EQ(records[1].text, head);
  EXPECT_EQ(records[2].text, euro + tail.substr(0, kMaxRecordBytes - euro.size()));
  EXPECT_TRUE(records[2].continues_previous);
  EXPECT_EQ(records[3].text, tail.substr(kMaxRecordBytes - euro.size()));
  EXPECT_TRUE(records[3].continues_previous);
  EXPECT_EQ(records[4].text, "after");
  EXPECT_FALSE(records[4].continues_previous);
}

TEST(Compression, GzipAndZstdGiveTheRecordsOfThePlainFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 50000; ++i)
    text += "line " + std::to_string(i) + "\n<|endoftext|>\n";
  write_file(dir.file("plain.txt"), text);
  write_gzip(dir.file("one.txt.gz"), {text});
  // Several gzip members and zstd frames, as concatenated files have.
  write_gzip(dir.file("members.txt.gz"), {text.substr(0, 1000), text.substr(1000)});
  write_zstd(dir.file("frames.txt.zst"), {text.substr(0, 777777), text.substr(777777)});
  const Lines plain = read_inputs({dir.file("plain.txt")});
  ASSERT_EQ(plain.size(), 50000u);
  EXPECT_EQ(read_inputs({dir.file("one.txt.gz")}), plain);
  EXPECT_EQ(read_inputs({dir.file("members.txt.gz")}), plain);
  EXPECT_EQ(read_inputs({dir.file("frames.txt.zst")}), plain);
}

TEST(Compression, BytesReadCountsCompressedFileBytes) {
  TempDir dir;
  const std::string text(3 << 20, 'x');
  const std::string gz = write_gzip(dir.file("a.txt.gz"), {text});
  const std::string zst = write_zstd(dir.file("b.txt.zst"), {text});
  const std::vector<InputFile> inputs = resolve_inputs({gz, zst}, "auto");
  const std::uint64_t gz_bytes = std::filesystem::file_size(gz);
  const std::uint64_t zst_bytes = std::filesystem::file_size(zst);
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[0].bytes, gz_bytes);
  EXPECT_EQ(inputs[1].bytes, zst_bytes);
  const std::unique_ptr<RecordReader> reader = open_records(inputs, ReaderOptions{});
  Record record;
  std::uint64_t pieces = 0;
  while (reader->next(record)) {
    ++pieces;
    EXPECT_LE(reader->bytes_read(), gz_bytes + zst_bytes);
  }
  EXPECT_EQ(pieces, 6u);
  EXPECT_EQ(reader->bytes_read(), gz_bytes + zst_bytes);
}

TEST(Compression, CorruptGzipNamesTheFileAndOffset) {
  TempDir dir;
  // A gzip header, then a deflate block of the reserved type 3.
  const std::string path =
      write_file(dir.file("bad.txt.gz"), std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03\x07xyz", 14));
  EXPECT_EQ(corpus_error_of([&] { read_inputs({path}); }),
            path + ": corrupt gzip data near byte 11: invalid block type");
}

TEST(Compression, ReadingErrorsAreRuntimeFailures) {
  TempDir dir;
  const std::string gzip =
      write_file(dir.file("bad.txt.gz"), std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03\x07xyz", 14));
  const std::string jsonl = write_file(dir.file("bad.jsonl"), "{\"text\": \"a\", }\n");
  const std::vector<InputFile> gone{{dir.file("gone.txt"), 0, InputFormat::text}};
  const std::string kind = "CorpusError, exit 1";
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({gzip}); }), kind);
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({jsonl}); }), kind);
  Record record;
  EXPECT_EQ(corpus_error_kind([&] { open_records(gone, ReaderOptions{})->next(record); }), kind);
}

TEST(Compression, TruncatedGzipAndZstdAreErrors) {
  TempDir dir;
  const std::string text(100000, 'q');
  std::string gz = read_file(write_gzip(dir.file("whole.gz"), {text}));
  std::string zst = read_file(write_zstd(dir.file("whole.zst"), {text}));
  const std::string short_gz = write_file(dir.file("short.txt.gz"), gz.substr(0, gz.size() - 6));
  const std::string short_zst =
      write_file(dir.file("short.txt.zst"), zst.substr(0, zst.size() - 3));
  EXPECT_EQ(corpus_error_of([&] { read_inputs({short_gz}); }),
            fmt::format("{}: truncated gzip data: the file ends at byte {} inside a compressed "
                        "stream",
                        short_gz, gz.size() - 6));
  EXPECT_EQ(corpus_error_of([&] { read_inputs({short_zst}); }),
            fmt::format("{}: truncated zstd data: the file ends at byte {} inside a compressed "
                        "frame",
                        short_zst, zst.size() - 3));
}

TEST(Compression, CorruptZstdNamesTheFileAndOffset) {
  TempDir dir;
  const std::string path = write_file(dir.file("bad.txt.zst"), "this is not zstd at all");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({path}); }),
            path + ": corrupt zstd data near byte 0: Unknown frame descriptor");
}

TEST(Compression, MissingFileIsAnErrorWhenOpened) {
  TempDir dir;
  const std::string path = dir.file("gone.txt");
  const std::vector<InputFile> inputs{{path, 0, InputFormat::text}};
  Record record;
  EXPECT_EQ(corpus_error_of([&] { open_records(inputs, ReaderOptions{})->next(record); }),
            "cannot open '" + path + "': No such file or directory");
}

TEST(JsonlReader, EachLineIsADocumentAndItsTextOneRecord) {
  TempDir dir;
  write_file(dir.file("a.jsonl"),
             "{\"text\": \"first\", \"id\": 1}\n\n{\"text\": \"two\\nlines\"}\r\n"
             "{\"text\": \"\"}\n  \n{\"id\": 4, \"text\": \"caf\\u00e9\"}");
  EXPECT_EQ(read_inputs({dir.file("a.jsonl")}),
            (Lines{"# first", "# two\nlines", "# caf\xC3\xA9"}));
}

TEST(JsonlReader, FieldIsConfigurableAndLongTextsAreCut) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"body\": \"0123456789A\\u00e9\", \"text\": 5}\n");
  ReaderOptions options = with_limit(6);
  options.jsonl_field = "body";
  EXPECT_EQ(read_inputs({dir.file("a.jsonl")}, "auto", options),
            (Lines{"# 012345", "+ 6789A", "+ \xC3\xA9"}));
}

TEST(JsonlReader, MalformedLineGivesFileLineAndColumn) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("a.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"a\", }\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({path}); }),
            path +
                ":2:15: malformed JSON: syntax error while parsing object key - unexpected "
                "'}'; expected string literal");
}

// nlohmann reports a number beyond a double as out_of_range, not as a
// parse error; found by fuzz/corpus_jsonl.
TEST(JsonlReader, NumberTooLargeIsMalformedJsonWithItsColumn) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("a.jsonl"), "{\"text\": \"ok\"}\n{\"n\": 1e400, \"text\": \"a\"}\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({path}); }),
            path + ":2:7: malformed JSON: number overflow parsing '1e400'");
}

TEST(JsonlReader, MissingOrWrongFieldIsNamed) {
  TempDir dir;
  const std::string missing = write_file(dir.file("m.jsonl"), "{\"text\": \"a\"}\n{\"body\": 1}\n");
  const std::string number = write_file(dir.file("n.jsonl"), "{\"text\": 12}\n");
  const std::string array = write_file(dir.file("l.jsonl"), "[\"text\"]\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({missing}); }),
            missing + ":2: field 'text' is missing");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({number}); }),
            number + ":1: field 'text' is not a string (found a number)");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({array}); }),
            array + ":1: expected a JSON object with a string field 'text', found an array");
}

TEST(JsonlReader, CompressedJsonlIsDetectedAndRead) {
  TempDir dir;
  const std::string lines = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n";
  write_gzip(dir.file("a.jsonl.gz"), {lines});
  write_zstd(dir.file("b.JSONL.zst"), {lines});
  EXPECT_EQ(read_inputs({dir.file("a.jsonl.gz"), dir.file("b.JSONL.zst")}),
            (Lines{"# a", "# b", "# a", "# b"}));
}

TEST(OpenRecords, RejectsALimitBelowOneCharacter) {
  try {
    open_records({}, with_limit(3));
    FAIL() << "expected a UsageError";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "max_record_bytes must be at least 4, got 3");
  }
}

}  // namespace
}  // namespace loom::data_tools
