// `loom prepare` end to end on corpora the tests write: documents survive
// intact and whole in exactly one split, any thread count gives the same
// store, the char tokenizer's single pass gives the ids of a sorted
// vocabulary, and a prepare that fails leaves nothing behind.
#include "loom/data_tools/prepare.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "chat_export_fixtures.hpp"
#include "corpus_passes.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/config/loader.hpp"
#include "loom/data/token_store.hpp"
#include "loom/data_tools/record_reader.hpp"
#include "loom/text/utf8.hpp"

namespace loom::data_tools {
namespace {

using namespace loom::test;

config::Config make_config(const std::vector<std::string>& inputs, const std::string& store,
                           const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"data.store=" + store};
  all.insert(all.end(), overrides.begin(), overrides.end());
  config::Config config = config::load_config_text("", "test", all);
  config.prepare.inputs = inputs;
  return config;
}

PrepareReport run(const config::Config& config, bool overwrite = false) {
  PrepareOptions options;
  options.overwrite = overwrite;
  options.progress = ProgressOutput::none;
  return prepare_corpus(config, options);
}

// The documents of one split, decoded, <eos> dropped.
std::vector<std::string> documents_of(const std::string& store, data::Split split) {
  const data::TokenStoreReader reader(store);
  const auto tokenizer =
      text::tokenizer_from_json(nlohmann::json::parse(reader.metadata().tokenizer_json));
  const data::SplitView view = reader.split(split);
  std::vector<std::string> documents;
  for (std::uint64_t d = 0; d < view.num_docs; ++d) {
    std::vector<text::TokenId> ids;
    for (std::uint64_t i = view.doc_begin(d); i < view.doc_end(d); ++i) {
      if (view.at(i) != text::kEosId) ids.push_back(view.at(i));
    }
    documents.push_back(tokenizer->decode(ids));
  }
  return documents;
}

std::vector<text::TokenId> all_tokens(const data::SplitView& view) {
  std::vector<text::TokenId> ids(view.size);
  for (std::uint64_t i = 0; i < view.size; ++i)
    ids[i] = view.at(i);
  return ids;
}

// Stories separated by <|endoftext|> lines, each a different text.
std::vector<std::string> write_stories(const std::string& path, int count) {
  std::vector<std::string> stories;
  std::string text;
  for (int i = 0; i < count; ++i) {
    stories.push_back(fmt::format("Story {} begins.\nÉlodie saw {} birds 🐦.\n", i, i * 7));
    text += stories.back() + "<|endoftext|>\n";
  }
  write_file(path, text);
  return stories;
}

TEST(Prepare, EveryDocumentLandsWholeInExactlyOneSplit) {
  TempDir dir;
  const std::vector<std::string> stories = write_stories(dir.file("stories.txt"), 200);
  const std::string store = dir.file("stories.h5");
  const PrepareReport report = run(make_config({dir.file("stories.txt")}, store));

  std::vector<std::string> train = documents_of(store, data::Split::train);
  std::vector<std::string> val = documents_of(store, data::Split::val);
  EXPECT_EQ(report.train.documents, train.size());
  EXPECT_EQ(report.val.documents, val.size());
  EXPECT_EQ(train.size() + val.size(), stories.size());
  EXPECT_GT(val.size(), 5u);  // about 10% of 200
  EXPECT_LT(val.size(), 40u);
  std::multiset<std::string> seen(train.begin(), train.end());
  seen.insert(val.begin(), val.end());
  EXPECT_EQ(seen, std::multiset<std::string>(stories.begin(), stories.end()));
  // Documents keep their order within a split.
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end(), [&](const auto& a, const auto& b) {
    return std::find(stories.begin(), stories.end(), a) <
           std::find(stories.begin(), stories.end(), b);
  }));
  EXPECT_EQ(report.tokenizer, "char");
  EXPECT_EQ(report.unknown_tokens, 0u);
  EXPECT_TRUE(report.split_note.empty());
}

TEST(Prepare, EndsEveryDocumentWithEos) {
  TempDir dir;
  write_stories(dir.file("s.txt"), 20);
  const std::string store = dir.file("s.h5");
  run(make_config({dir.file("s.txt")}, store));
  const data::TokenStoreReader reader(store);
  for (data::Split split : {data::Split::train, data::Split::val}) {
    const data::SplitView view = reader.split(split);
    for (std::uint64_t d = 0; d < view.num_docs; ++d) {
      EXPECT_EQ(view.at(view.doc_end(d) - 1), text::kEosId);
    }
  }
}

TEST(Prepare, AnyThreadCountWritesTheSameStore) {
  TempDir dir;
  // About 12 chunks of short lines in 60 documents, and a line several
  // chunks long, so many chunks are in flight at once.
  std::string text;
  for (int i = 0; i < 240000; ++i) {
    text += fmt::format("line {} — ünïcödé {}\n", i, std::string(static_cast<size_t>(i % 97), 'x'));
    if (i % 4000 == 3999) text += "<|endoftext|>\n";
  }
  text += std::string(3 << 20, 'y') + "\n";
  write_file(dir.file("big.txt"), text);
  std::vector<std::vector<text::TokenId>> tokens;
  std::vector<std::vector<std::uint64_t>> documents;
  for (int threads : {1, 2, 7}) {
    const std::string store = dir.file(fmt::format("t{}.h5", threads));
    run(make_config({dir.file("big.txt")}, store, {fmt::format("prepare.threads={}", threads)}));
    const data::TokenStoreReader reader(store);
    std::vector<text::TokenId> all;
    std::vector<std::uint64_t> starts;
    for (data::Split split : {data::Split::train, data::Split::val}) {
      const data::SplitView view = reader.split(split);
      const std::vector<text::TokenId> ids = all_tokens(view);
      all.insert(all.end(), ids.begin(), ids.end());
      starts.insert(starts.end(), view.doc_starts, view.doc_starts + view.num_docs);
      starts.push_back(~0ULL);  // split marker
    }
    tokens.push_back(std::move(all));
    documents.push_back(std::move(starts));
  }
  EXPECT_GT(tokens[0].size(), 12u << 20);
  EXPECT_EQ(tokens[0], tokens[1]);
  EXPECT_EQ(tokens[0], tokens[2]);
  EXPECT_EQ(documents[0], documents[1]);
  EXPECT_EQ(documents[0], documents[2]);
  EXPECT_GT(documents[0].size(), 40u);
}

// The char tokenizer's ids computed here without it: the distinct code
// points of the documents (invalid UTF-8 as U+FFFD), sorted, numbered from 4.
struct ExpectedChars {
  explicit ExpectedChars(const std::vector<std::string>& documents) {
    for (const std::string& document : documents) {
      for (const char32_t c : code_points(document))
        ids.emplace(c, 0);
    }
    text::TokenId next = text::kNumSpecialTokens;
    for (auto& [code_point, id] : ids)
      id = next++;
  }

  static std::vector<char32_t> code_points(const std::string& text) {
    std::vector<char32_t> found;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    while (p < end) {
      const text::Utf8Unit unit = text::decode_utf8(p, end);
      found.push_back(unit.code_point);
      p += unit.length;
    }
    return found;
  }

  // Each document's ids and <eos>, split by split, with where each starts.
  void add(const std::string& document, data::Split split) {
    std::vector<text::TokenId>& tokens = split == data::Split::train ? train : val;
    (split == data::Split::train ? train_starts : val_starts).push_back(tokens.size());
    for (const char32_t c : code_points(document))
      tokens.push_back(ids.at(c));
    tokens.push_back(text::kEosId);
  }

  std::map<char32_t, text::TokenId> ids;
  std::vector<text::TokenId> train, val;
  std::vector<std::uint64_t> train_starts, val_starts;
};

// Writes `documents` between separator lines; returns the expected store
// contents for the default split.
ExpectedChars write_documents(const std::string& path, const std::vector<std::string>& documents) {
  std::string corpus;
  for (const std::string& document : documents)
    corpus += document + "<|endoftext|>\n";
  write_file(path, corpus);
  ExpectedChars expected(documents);
  const config::Config defaults = make_config({}, "unused.h5");
  for (std::size_t i = 0; i < documents.size(); ++i) {
    expected.add(documents[i],
                 split_of_document(i, static_cast<std::uint64_t>(defaults.prepare.split_seed),
                                   defaults.prepare.val_fraction));
  }
  return expected;
}

void expect_store_holds(const std::string& store, const ExpectedChars& expected) {
  const data::TokenStoreReader reader(store);
  EXPECT_EQ(reader.metadata().vocab_size, text::kNumSpecialTokens + expected.ids.size());
  const data::SplitView train = reader.split(data::Split::train);
  const data::SplitView val = reader.split(data::Split::val);
  EXPECT_EQ(all_tokens(train), expected.train);
  EXPECT_EQ(all_tokens(val), expected.val);
  EXPECT_EQ(std::vector<std::uint64_t>(train.doc_starts, train.doc_starts + train.num_docs),
            expected.train_starts);
  EXPECT_EQ(std::vector<std::uint64_t>(val.doc_starts, val.doc_starts + val.num_docs),
            expected.val_starts);
}

// About 3.7 MiB in 300 documents: characters first met in later chunks
// (é, 日本, 🐦, invalid UTF-8 near the end, each at least twice), so
// provisional ids are neither in code point order nor all given in the
// first chunk.
std::vector<std::string> documents_over_several_chunks() {
  std::vector<std::string> documents;
  for (int i = 0; i < 300; ++i) {
    std::string document;
    for (int line = 0; line < 200; ++line) {
      document +=
          fmt::format("Doc {} line {}: the quick brown fox jumps over the lazy dog.\n", i, line);
    }
    if (i == 90 || i == 91) document += "Élodie a mangé.\n";
    if (i == 150 || i == 152) document += "日本 🐦\n";
    if (i == 280 || i == 281) document += "bad \xff byte, then a real \xef\xbf\xbd\n";
    documents.push_back(document);
  }
  return documents;
}

TEST(Prepare, CharSinglePassGivesTheIdsOfTheSortedVocabulary) {
  TempDir dir;
  const ExpectedChars expected =
      write_documents(dir.file("c.txt"), documents_over_several_chunks());
  ASSERT_GT(std::filesystem::file_size(dir.file("c.txt")), 3 * kChunkBytes);
  ASSERT_FALSE(expected.val.empty());
  for (int threads : {1, 2}) {
    const std::string store = dir.file(fmt::format("c{}.h5", threads));
    const PrepareReport report =
        run(make_config({dir.file("c.txt")}, store, {fmt::format("prepare.threads={}", threads)}));
    expect_store_holds(store, expected);
    EXPECT_EQ(report.unknown_tokens, 0u);
    EXPECT_EQ(report.invalid_utf8, 2u);
    EXPECT_EQ(report.train.tokens, expected.train.size());
    EXPECT_EQ(report.val.tokens, expected.val.size());
    const data::StoreMetadata meta = data::TokenStoreReader(store).metadata();
    EXPECT_EQ(meta.dtype, data::TokenDtype::u8);
    const nlohmann::json chars = nlohmann::json::parse(meta.tokenizer_json)["chars"];
    ASSERT_EQ(chars.size(), expected.ids.size());
    EXPECT_EQ(chars.front(), "\n");
    EXPECT_EQ(chars.back(), "🐦");
  }
}

// More than 252 characters, first met after a few MiB: the scratch files
// are rewritten wider mid-pass, and the store is uint16.
TEST(Prepare, CharSinglePassWidensWhenManyCharactersComeLate) {
  TempDir dir;
  std::vector<std::string> documents = documents_over_several_chunks();
  std::string many;
  for (char32_t c = 0x4E00; c < 0x4E00 + 300; ++c)
    text::append_utf8(c, many);
  documents.push_back(many + "\n");
  const ExpectedChars expected = write_documents(dir.file("w.txt"), documents);
  ASSERT_GT(expected.ids.size() + text::kNumSpecialTokens, 256u);
  const std::string store = dir.file("w.h5");
  run(make_config({dir.file("w.txt")}, store, {"prepare.threads=2"}));
  expect_store_holds(store, expected);
  EXPECT_EQ(data::TokenStoreReader(store).metadata().dtype, data::TokenDtype::u16);

  // Capped to 100 ids the store narrows back to uint8: the 300 characters
  // seen once are the rarest, so the cap keeps every other character and
  // the lowest of the 300 (ties go to the lower code point); the rest are
  // <unk>. Ids follow code point order, so the kept ones come after the
  // other characters below U+4E00.
  const std::string capped = dir.file("capped.h5");
  const PrepareReport report =
      run(make_config({dir.file("w.txt")}, capped, {"prepare.max_vocab=100"}));
  const std::size_t others = expected.ids.size() - 300;
  const std::size_t kept_rare = 96 - others;
  const auto others_below = static_cast<text::TokenId>(
      std::distance(expected.ids.begin(), expected.ids.find(char32_t{0x4E00})));
  EXPECT_EQ(report.vocab_size, 100u);
  EXPECT_EQ(report.unknown_tokens, 300u - kept_rare);
  const data::TokenStoreReader reader(capped);
  EXPECT_EQ(reader.metadata().dtype, data::TokenDtype::u8);
  // The last document (train or val) ends with the 300 characters, a
  // newline and <eos>.
  const data::SplitView last_split =
      reader.split(expected.val_starts.back() > expected.train_starts.back() ? data::Split::val
                                                                             : data::Split::train);
  const std::vector<text::TokenId> tokens = all_tokens(last_split);
  ASSERT_GE(tokens.size(), 302u);
  std::vector<text::TokenId> tail(tokens.end() - 302, tokens.end() - 2);
  std::vector<text::TokenId> expected_tail(300, text::kUnkId);
  for (std::size_t i = 0; i < kept_rare; ++i)
    expected_tail[i] = text::kNumSpecialTokens + others_below + static_cast<text::TokenId>(i);
  EXPECT_EQ(tail, expected_tail);
}

TEST(Prepare, CharSinglePassRefusesACorpusCleanedToNothing) {
  TempDir dir;
  write_file(dir.file("short.txt"), "hi\nok\n");
  const std::string store = dir.file("short.h5");
  try {
    run(make_config({dir.file("short.txt")}, store, {"prepare.min_chars=5"}));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "prepare: no text left in " + dir.file("short.txt") +
                                         " after cleaning; nothing to write");
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"short.txt"});
}

TEST(Prepare, InputsWithNoTextAreNotBlamedOnCleaning) {
  TempDir dir;
  write_file(dir.file("empty.txt"), "");
  write_file(dir.file("separators.txt"), "<|endoftext|>\n<|endoftext|>\n");
  const std::vector<std::string> inputs = {dir.file("empty.txt"), dir.file("separators.txt")};
  const std::string expected = "prepare: found no text in " + inputs[0] + ", " + inputs[1] +
                               ": 28 bytes read, but not one line, JSONL text or chat message "
                               "(empty files, or separator lines alone); nothing to write";
  // Both the one-pass char tokenizer and SentencePiece's sampling pass.
  for (const char* tokenizer : {"char", "bpe"}) {
    SCOPED_TRACE(tokenizer);
    try {
      run(make_config(inputs, dir.file("x.h5"), {std::string("prepare.tokenizer=") + tokenizer}));
      FAIL() << "expected a CorpusError";
    } catch (const CorpusError& e) {
      EXPECT_EQ(std::string(e.what()), expected);
      EXPECT_EQ(e.exit_code(), ExitCode::kFailure);
    }
  }
}

TEST(Prepare, EveryDiscordLayoutKeepsEveryMessageWithText) {
  for (const DiscordLayout& layout : discord_layouts()) {
    SCOPED_TRACE(layout.name);
    TempDir dir;
    write_discord_layout(dir.path() / "package", layout);
    const std::string store = dir.file("chat.h5");
    const PrepareReport report =
        run(make_config({(dir.path() / "package").string()}, store, {"prepare.val_fraction=0"}));
    EXPECT_EQ(report.filters.records_in, 5u);
    EXPECT_EQ(report.filters.records_out, 5u);
    EXPECT_EQ(documents_of(store, data::Split::train),
              (std::vector<std::string>{
                  "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x91\x8B\nline one\nline two\nshe said "
                  "\"hi\", then left\n",
                  "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\ntrailing comma,\n"}));
  }
}

TEST(Prepare, AFailureWhileTokenizingIsReportedNotCrashed) {
  TempDir dir;
  // Several MiB of good JSONL, then a bad line: tokenizing fails with chunks
  // still queued on four threads.
  std::string text;
  for (int i = 0; i < 60000; ++i)
    text += fmt::format("{{\"text\": \"record {} {}\"}}\n", i, std::string(80, 'z'));
  text += "{\"text\": broken}\n";
  write_file(dir.file("big.jsonl"), text);
  try {
    run(make_config({dir.file("big.jsonl")}, dir.file("x.h5"),
                    {"prepare.tokenizer=byte", "prepare.threads=4"}));
    FAIL() << "expected a CorpusError";
  } catch (const CorpusError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("big.jsonl") + ":60001:"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
}

TEST(Prepare, ALineCutInPiecesIsKeptOrDroppedWhole) {
  TempDir dir;
  const std::string head(kMaxRecordBytes, 'X');  // exactly one reader piece
  write_file(dir.file("t.txt"), "hello\n" + head + "tail1\nworld\n" + head + "tail2\nend\n");
  const std::string store = dir.file("t.h5");
  run(make_config({dir.file("t.txt")}, store,
                  {"prepare.dedup=true", "prepare.tokenizer=byte", "prepare.val_fraction=0"}));
  // The second long line repeats the first's head piece: dedup drops the
  // whole line, not the head alone (which would glue "tail2" to "world").
  EXPECT_EQ(documents_of(store, data::Split::train),
            std::vector<std::string>{"hello\n" + head + "tail1\nworld\nend\n"});
}

TEST(Prepare, RefusesToRunOnSeveralRanks) {
  TempDir dir;
  write_file(dir.file("s.txt"), "text\n");
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "2", 1);
  try {
    run(make_config({dir.file("s.txt")}, dir.file("s.h5")));
    ADD_FAILURE() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "loom prepare runs as one process, but this is rank 1 of 2 (launched by env): run "
                 "it once, before launching training");
  }
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
}

TEST(Prepare, FileNamesNeedNotBeUtf8) {
  TempDir dir;
  const std::string name = dir.file("caf\xe9.txt");
  write_file(name, "du caf\xc3\xa9\n");
  const std::string store = dir.file("c.h5");
  run(make_config({name}, store));
  const data::StoreMetadata meta = data::TokenStoreReader(store).metadata();
  ASSERT_EQ(meta.sources.size(), 1u);
  EXPECT_EQ(meta.sources[0].bytes, 9u);
}

TEST(Prepare, LongLinesComeThroughIntact) {
  TempDir dir;
  const std::string line = std::string(2500000, 'a') + "é" + std::string(10, 'b');
  write_file(dir.file("long.txt"), "first\n" + line + "\nlast\n");
  const std::string store = dir.file("long.h5");
  run(make_config({dir.file("long.txt")}, store, {"prepare.val_fraction=0"}));
  EXPECT_EQ(documents_of(store, data::Split::train),
            std::vector<std::string>{"first\n" + line + "\nlast\n"});
}

TEST(Prepare, OneDocumentCorpusSplitsAtATokenBoundaryAndSaysSo) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += "To be, or not to be.\n";  // 21 characters a line
  write_file(dir.file("play.txt"), text);
  const std::string store = dir.file("play.h5");
  // Any split seed: the first document always trains.
  const PrepareReport report =
      run(make_config({dir.file("play.txt")}, store, {"prepare.split_seed=10"}));
  // 2100 characters + <eos> = 2101 tokens; the last 10% (210) become val.
  EXPECT_EQ(report.train.tokens, 1891u);
  EXPECT_EQ(report.val.tokens, 210u);
  EXPECT_EQ(report.val.documents, 1u);
  EXPECT_EQ(report.split_note,
            "the corpus has 1 document and none went to val: its last 210 tokens (10%) became the "
            "val split, cut at a token boundary");
  EXPECT_EQ(documents_of(store, data::Split::train)[0] + documents_of(store, data::Split::val)[0],
            text);
}

TEST(Prepare, RefusesToReplaceAStoreUnlessForced) {
  TempDir dir;
  write_stories(dir.file("s.txt"), 10);
  const std::string store = dir.file("s.h5");
  run(make_config({dir.file("s.txt")}, store));
  const auto before = std::filesystem::last_write_time(store);
  try {
    run(make_config({dir.file("s.txt")}, store));
    FAIL() << "expected a StoreError";
  } catch (const data::StoreError& e) {
    EXPECT_EQ(std::string(e.what()), store + " already exists; pass --force to replace it");
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
  EXPECT_EQ(std::filesystem::last_write_time(store), before);
  EXPECT_NO_THROW(run(make_config({dir.file("s.txt")}, store), /*overwrite=*/true));
}

TEST(Prepare, AFailedPrepareLeavesTheOldStoreAndNoTemporaryFiles) {
  TempDir dir;
  write_stories(dir.file("s.txt"), 10);
  const std::string store = dir.file("s.h5");
  run(make_config({dir.file("s.txt")}, store));
  const std::vector<std::string> before = documents_of(store, data::Split::train);
  write_file(dir.file("bad.jsonl"), "{\"text\": \"fine\"}\n{\"text\": oops}\n");
  EXPECT_THROW(run(make_config({dir.file("bad.jsonl")}, store), /*overwrite=*/true), CorpusError);
  EXPECT_EQ(documents_of(store, data::Split::train), before);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"bad.jsonl", "s.h5", "s.txt"}));
}

TEST(Prepare, RareCharactersBecomeUnknownAndAreCounted) {
  TempDir dir;
  write_file(dir.file("t.txt"), std::string(50, 'a') + std::string(20, 'b') + "zq\nab\n");
  const std::string store = dir.file("t.h5");
  const PrepareReport report = run(
      make_config({dir.file("t.txt")}, store, {"prepare.min_count=2", "prepare.val_fraction=0"}));
  EXPECT_EQ(report.unknown_tokens, 2u);   // z and q
  EXPECT_EQ(report.vocab_size, 4u + 3u);  // specials + a, b, newline
  EXPECT_EQ(documents_of(store, data::Split::train)[0],
            std::string(50, 'a') + std::string(20, 'b') + "<unk><unk>\nab\n");
}

TEST(Prepare, CleaningIsAppliedAndCounted) {
  TempDir dir;
  write_file(dir.file("chat.txt"),
             "hello https://example.com\nhello https://example.com\nhi\n\nbye @sam\n");
  const std::string store = dir.file("chat.h5");
  const PrepareReport report = run(
      make_config({dir.file("chat.txt")}, store,
                  {"prepare.drop_urls=true", "prepare.drop_mentions=true", "prepare.dedup=true",
                   "prepare.drop_empty=true", "prepare.min_chars=3", "prepare.val_fraction=0"}));
  EXPECT_EQ(documents_of(store, data::Split::train), std::vector<std::string>{"hello\nbye\n"});
  EXPECT_EQ(report.filters.records_in, 5u);
  EXPECT_EQ(report.filters.records_out, 2u);
  EXPECT_EQ(report.filters.urls_removed, 2u);
  EXPECT_EQ(report.filters.mentions_removed, 1u);
  EXPECT_EQ(report.filters.dropped_duplicate, 1u);
}

TEST(Prepare, ByteTokenizerNeedsNoVocabularyPass) {
  TempDir dir;
  write_stories(dir.file("s.txt"), 30);
  const std::string store = dir.file("s.h5");
  const PrepareReport report =
      run(make_config({dir.file("s.txt")}, store, {"prepare.tokenizer=byte"}));
  EXPECT_EQ(report.tokenizer, "byte");
  EXPECT_EQ(report.vocab_size, 260u);
  EXPECT_EQ(data::TokenStoreReader(store).metadata().dtype, data::TokenDtype::u16);
}

TEST(Prepare, MissingInputsAreAClearError) {
  TempDir dir;
  try {
    run(make_config({}, dir.file("x.h5")));
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "prepare.inputs is empty: name the corpus files, folders or globs, e.g. --set "
                 "prepare.inputs=corpus.txt");
  }
  EXPECT_THROW(run(make_config({dir.file("nothing-here.txt")}, dir.file("x.h5"))), CorpusError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
}

TEST(Prepare, StoreRecordsSourcesAndTheReport) {
  TempDir dir;
  write_stories(dir.file("s.txt"), 10);
  const std::string store = dir.file("s.h5");
  run(make_config({dir.file("s.txt")}, store));
  const data::StoreMetadata meta = data::TokenStoreReader(store).metadata();
  ASSERT_EQ(meta.sources.size(), 1u);
  EXPECT_EQ(meta.sources[0].name, dir.file("s.txt"));
  EXPECT_EQ(meta.sources[0].bytes, std::filesystem::file_size(dir.file("s.txt")));
  const nlohmann::json report = nlohmann::json::parse(meta.report_json);
  EXPECT_EQ(report["tokenizer"], "char");
  EXPECT_EQ(report["train"]["documents"].get<int>() + report["val"]["documents"].get<int>(), 10);
}

}  // namespace
}  // namespace loom::data_tools
