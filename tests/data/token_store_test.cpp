// The token store written and read back: every dtype, documents, metadata,
// writes larger than the writer's buffers, empty splits, moving the train
// tail to val, provisional ids remapped at commit; and what the writer
// refuses.
#include "loom/data/token_store.hpp"

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

namespace loom::data {
namespace {

using namespace loom::test;

using Ids = std::vector<text::TokenId>;
using Offsets = std::vector<std::uint64_t>;

Ids concatenated(const std::vector<Document>& documents, Split split) {
  Ids ids;
  for (const Document& document : documents) {
    if (document.split == split) ids.insert(ids.end(), document.ids.begin(), document.ids.end());
  }
  return ids;
}

void expect_metadata(const StoreMetadata& read, const StoreMetadata& written,
                     std::uint32_t vocab_size, TokenDtype dtype) {
  EXPECT_EQ(read.format_version, 1u);
  EXPECT_EQ(read.vocab_size, vocab_size);
  EXPECT_EQ(read.dtype, dtype);
  EXPECT_EQ(read.tokenizer_json, written.tokenizer_json);
  ASSERT_EQ(read.sources.size(), written.sources.size());
  for (std::size_t i = 0; i < read.sources.size(); ++i) {
    EXPECT_EQ(read.sources[i].name, written.sources[i].name);
    EXPECT_EQ(read.sources[i].bytes, written.sources[i].bytes);
    EXPECT_EQ(read.sources[i].crc32, written.sources[i].crc32);
  }
  EXPECT_EQ(read.filters_json, written.filters_json);
  EXPECT_EQ(read.report_json, written.report_json);
  EXPECT_EQ(read.created, written.created);
}

struct DtypeCase {
  std::uint32_t vocab_size;
  TokenDtype dtype;
};

class RoundTrip : public ::testing::TestWithParam<DtypeCase> {};

TEST_P(RoundTrip, TokensDocumentsAndMetadataComeBackExactly) {
  const auto [vocab_size, dtype] = GetParam();
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  const std::vector<Document> documents = {
      {Split::train, {0, vocab_size - 1, 5, 3}},
      {Split::val, {vocab_size - 1}},
      {Split::train, token_pattern(1000, vocab_size, 1)},
      {Split::val, token_pattern(77, vocab_size, 2)},
      {Split::train, {3}},
  };
  write_store(path, vocab_size, documents);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});

  const TokenStoreReader reader(path);
  EXPECT_EQ(reader.path(), path);
  expect_metadata(reader.metadata(), full_metadata(vocab_size), vocab_size, dtype);
  const SplitView train = reader.split(Split::train);
  EXPECT_EQ(train.dtype, dtype);
  EXPECT_EQ(tokens_of(train), concatenated(documents, Split::train));
  EXPECT_EQ(doc_starts_of(train), (Offsets{0, 4, 1004}));
  EXPECT_EQ(train.at(1), vocab_size - 1);
  const SplitView val = reader.split(Split::val);
  EXPECT_EQ(tokens_of(val), concatenated(documents, Split::val));
  EXPECT_EQ(doc_starts_of(val), (Offsets{0, 1}));
}

INSTANTIATE_TEST_SUITE_P(EveryDtype, RoundTrip,
                         ::testing::Values(DtypeCase{100, TokenDtype::u8},
                                           DtypeCase{1000, TokenDtype::u16},
                                           DtypeCase{70000, TokenDtype::u32}));

TEST(TokenStore, ReaderMovesWithItsMapping) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_store(path, 300, {{Split::train, {7, 8, 9}}});
  TokenStoreReader first(path);
  TokenStoreReader second(std::move(first));
  EXPECT_EQ(tokens_of(second.split(Split::train)), (Ids{7, 8, 9}));
  TokenStoreReader third(path);
  third = std::move(second);
  EXPECT_EQ(tokens_of(third.split(Split::train)), (Ids{7, 8, 9}));
}

TEST(TokenStore, CreatedIsSetToNowWhenEmpty) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  StoreMetadata metadata;
  metadata.tokenizer_json = R"({"kind":"byte","vocab_size":100})";
  metadata.vocab_size = 12345;  // the writer's own vocab_size wins
  metadata.format_version = 99;
  TokenStoreWriter writer(path, 100, false);
  writer.commit(metadata);
  const StoreMetadata read = TokenStoreReader(path).metadata();
  EXPECT_EQ(read.vocab_size, 100u);
  EXPECT_EQ(read.format_version, 1u);
  EXPECT_TRUE(read.sources.empty());
  EXPECT_EQ(read.filters_json, "{}");
  // Like 2024-05-01T12:34:56Z.
  ASSERT_EQ(read.created.size(), 20u) << read.created;
  EXPECT_EQ(read.created.substr(0, 2), "20");
  EXPECT_EQ(read.created[10], 'T');
  EXPECT_EQ(read.created.back(), 'Z');
}

// Several spill blocks per split (1 MiB each), appends of odd sizes, and a
// tail move that itself spans blocks.
TEST(TokenStore, WritesLargerThanTheBuffersRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("big.h5");
  const std::uint32_t vocab_size = 50000;
  const Ids ids = token_pattern(3'000'017, vocab_size);
  const Offsets starts = {0, 1'000'000, 2'100'000, ids.size()};
  {
    TokenStoreWriter writer(path, vocab_size, false);
    for (std::size_t doc = 0; doc + 1 < starts.size(); ++doc) {
      writer.begin_document(Split::train);
      for (std::uint64_t at = starts[doc]; at < starts[doc + 1]; at += 100'003) {
        writer.append(Split::train, ids.data() + at,
                      std::min<std::uint64_t>(100'003, starts[doc + 1] - at));
      }
    }
    EXPECT_EQ(writer.documents(Split::train), 3u);
    writer.move_train_tail_to_val(1'200'000);
    writer.commit(full_metadata(vocab_size));
  }
  const TokenStoreReader reader(path);
  const SplitView train = reader.split(Split::train);
  const SplitView val = reader.split(Split::val);
  EXPECT_EQ(tokens_of(train), Ids(ids.begin(), ids.end() - 1'200'000));
  EXPECT_EQ(tokens_of(val), Ids(ids.end() - 1'200'000, ids.end()));
  EXPECT_EQ(doc_starts_of(train), (Offsets{0, 1'000'000}));
  EXPECT_EQ(doc_starts_of(val), (Offsets{0}));
}

TEST(TokenStore, AnEmptyValSplitReadsAsSizeZero) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_store(path, 100, {{Split::train, {1, 2, 3}}});
  const TokenStoreReader reader(path);
  const SplitView val = reader.split(Split::val);
  EXPECT_EQ(val.size, 0u);
  EXPECT_EQ(val.tokens, nullptr);
  EXPECT_EQ(val.num_docs, 0u);
  EXPECT_EQ(val.doc_starts, nullptr);
  EXPECT_EQ(tokens_of(reader.split(Split::train)), (Ids{1, 2, 3}));
}

TEST(TokenStore, BeginningADocumentWithoutTokensRecordsNone) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 100, false);
  const Ids ids = {4, 5, 6};
  writer.append(Split::train, ids.data(), 2);  // starts a document by itself
  writer.begin_document(Split::train);
  writer.begin_document(Split::train);
  writer.append(Split::train, ids.data(), 0);
  writer.begin_document(Split::train);
  writer.append(Split::train, ids.data() + 2, 1);
  EXPECT_EQ(writer.tokens(Split::train), 3u);
  EXPECT_EQ(writer.documents(Split::train), 2u);
  writer.commit(full_metadata(100));
  EXPECT_EQ(doc_starts_of(TokenStoreReader(path).split(Split::train)), (Offsets{0, 2}));
}

// Train: documents at 0, 10, 25 (40 tokens); val: one of 5 tokens.
struct TailCase {
  std::uint64_t moved;
  Offsets train_starts;
};

class MoveTrainTail : public ::testing::TestWithParam<TailCase> {};

TEST_P(MoveTrainTail, MovesTokensAndCutsDocuments) {
  const auto& [moved, train_starts] = GetParam();
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  const Ids train_ids = token_pattern(40, 100, 3);
  const Ids val_ids = token_pattern(5, 100, 4);
  TokenStoreWriter writer(path, 100, false);
  writer.append(Split::val, val_ids.data(), val_ids.size());
  for (auto [begin, end] : {std::pair{0, 10}, {10, 25}, {25, 40}}) {
    writer.begin_document(Split::train);
    writer.append(Split::train, train_ids.data() + begin, end - begin);
  }
  writer.move_train_tail_to_val(moved);
  EXPECT_EQ(writer.tokens(Split::train), 40 - moved);
  EXPECT_EQ(writer.documents(Split::train), train_starts.size());
  EXPECT_EQ(writer.tokens(Split::val), 5 + moved);
  EXPECT_EQ(writer.documents(Split::val), 2u);
  // The cut document stays closed: new train tokens start a new one.
  const Ids more = {99};
  writer.append(Split::train, more.data(), 1);
  writer.commit(full_metadata(100));

  const TokenStoreReader reader(path);
  Ids expected_train(train_ids.begin(), train_ids.end() - moved);
  expected_train.push_back(99);
  Offsets expected_starts = train_starts;
  expected_starts.push_back(40 - moved);
  EXPECT_EQ(tokens_of(reader.split(Split::train)), expected_train);
  EXPECT_EQ(doc_starts_of(reader.split(Split::train)), expected_starts);
  Ids expected_val = val_ids;
  expected_val.insert(expected_val.end(), train_ids.end() - moved, train_ids.end());
  EXPECT_EQ(tokens_of(reader.split(Split::val)), expected_val);
  EXPECT_EQ(doc_starts_of(reader.split(Split::val)), (Offsets{0, 5}));
}

INSTANTIATE_TEST_SUITE_P(Cuts, MoveTrainTail,
                         ::testing::Values(TailCase{20, {0, 10}},      // inside a document
                                           TailCase{15, {0, 10}},      // at a document start
                                           TailCase{14, {0, 10, 25}},  // one past it
                                           TailCase{40, {}}));         // everything

TEST(TokenStore, MovingMoreThanTrainHoldsIsRefused) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 100, false);
  const Ids ids = token_pattern(40, 100);
  writer.append(Split::train, ids.data(), ids.size());
  EXPECT_EQ(error_message<StoreError>([&] { writer.move_train_tail_to_val(41); }),
            path + ": cannot move 41 train tokens to val: train has only 40");
  EXPECT_EQ(writer.tokens(Split::train), 40u);
  EXPECT_EQ(writer.tokens(Split::val), 0u);
}

TEST(TokenStore, IdsOutsideTheVocabularyAreRefusedWhole) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 100, false);
  const Ids good = {1, 2, 3};
  const Ids bad = {5, 99, 100, 7};
  writer.append(Split::val, good.data(), good.size());
  EXPECT_EQ(error_message<StoreError>([&] { writer.append(Split::val, bad.data(), bad.size()); }),
            path + ": token id 100 (at val token 5) is not below vocab_size 100");
  EXPECT_EQ(writer.tokens(Split::val), 3u);
}

TEST(TokenStore, WriterRefusesAZeroVocabulary) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  EXPECT_EQ(error_message<StoreError>([&] { TokenStoreWriter writer(path, 0, false); }),
            path + ": vocab_size is 0; a store needs a vocabulary");
}

TEST(TokenStore, ACommittedWriterTakesNoMore) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 100, false);
  writer.commit(full_metadata(100));
  const Ids ids = {1};
  EXPECT_THROW(writer.append(Split::train, ids.data(), 1), StoreError);
  EXPECT_EQ(error_message<StoreError>([&] { writer.commit(full_metadata(100)); }),
            path + ": already committed");
}

// A file name in Latin-1 is not UTF-8; its bad byte becomes U+FFFD rather
// than failing commit after all the work.
TEST(TokenStore, SourceNamesThatAreNotUtf8AreStoredWithAReplacementCharacter) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  StoreMetadata metadata = full_metadata(100);
  metadata.sources = {{"caf\xe9.txt", 12, 34}};
  write_store(path, 100, {{Split::train, {1, 2}}}, metadata);
  const std::vector<SourceFile> read = TokenStoreReader(path).metadata().sources;
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].name, "caf\xEF\xBF\xBD.txt");
  EXPECT_EQ(read[0].bytes, 12u);
  EXPECT_EQ(read[0].crc32, 34u);
}

// The writer refuses at commit, before writing, metadata the reader would
// refuse (the reader's own messages are tested with it).
TEST(TokenStore, CommitRefusesJsonTheReaderWouldRefuse) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  const Ids ids = {1, 2};
  for (const auto& [field, json, message] :
       std::vector<std::tuple<std::string StoreMetadata::*, std::string, std::string>>{
           {&StoreMetadata::tokenizer_json, R"({"kind":"char","vocab_size":99})",
            "attribute 'tokenizer' has field 'vocab_size' = 99, but attribute 'vocab_size' is "
            "100"},
           {&StoreMetadata::filters_json, "",
            "attribute 'filters' is not valid JSON: [json.exception.parse_error.101] parse error "
            "at line 1, column 1: syntax error while parsing value - unexpected end of input; "
            "expected '[', '{', or a literal"}}) {
    TokenStoreWriter writer(path, 100, false);
    writer.append(Split::train, ids.data(), ids.size());
    StoreMetadata metadata = full_metadata(100);
    metadata.*field = json;
    EXPECT_EQ(error_message<StoreError>([&] { writer.commit(metadata); }), path + ": " + message);
    EXPECT_TRUE(entries_of(dir.path()).empty());
  }
}

// Provisional ids: a vocabulary known only once every token is in. The
// remap table here reverses the ids, so a wrong or skipped remap shows.
std::vector<text::TokenId> reversed_ids(std::uint32_t count, std::uint32_t vocab_size) {
  std::vector<text::TokenId> final_ids(count);
  for (std::uint32_t id = 0; id < count; ++id)
    final_ids[id] = vocab_size - 1 - id;
  return final_ids;
}

struct ProvisionalCase {
  // Provisional ids run below `largest_id + 1`; the largest comes in the last
  // call, after more than a scratch block of tokens, so the scratch files
  // are rewritten wider with both splits already holding data.
  text::TokenId largest_id;
  std::uint32_t final_vocab;  // the store's dtype comes from it, not from the largest id
  TokenDtype final_dtype;
};

class ProvisionalIdsRoundTrip : public ::testing::TestWithParam<ProvisionalCase> {};

TEST_P(ProvisionalIdsRoundTrip, StoredIdsAreTheirFinalIds) {
  const auto [largest_id, final_vocab, final_dtype] = GetParam();
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  const Ids early = token_pattern((1 << 20) + 3, 200, 1);  // fits u8 at first
  const Ids val = token_pattern(1000, 200, 2);
  const Ids late = {7, largest_id, 0};
  std::vector<text::TokenId> final_ids(largest_id + 1);
  for (text::TokenId id = 0; id <= largest_id; ++id)
    final_ids[id] = static_cast<text::TokenId>((id * 31 + 5) % final_vocab);
  {
    TokenStoreWriter writer(path, kProvisionalIds, false);
    writer.append(Split::train, early.data(), early.size());
    writer.begin_document(Split::val);
    writer.append(Split::val, val.data(), val.size());
    writer.begin_document(Split::train);
    writer.append(Split::train, late.data(), late.size());
    writer.move_train_tail_to_val(2);  // moves {largest_id, 0}
    writer.commit(full_metadata(final_vocab), final_ids);
  }
  auto remapped = [&](Ids ids) {
    for (text::TokenId& id : ids)
      id = final_ids[id];
    return ids;
  };
  Ids train = remapped(early);
  train.push_back(final_ids[7]);
  Ids val_tokens = remapped(val);
  val_tokens.push_back(final_ids[largest_id]);
  val_tokens.push_back(final_ids[0]);
  const TokenStoreReader reader(path);
  EXPECT_EQ(reader.metadata().vocab_size, final_vocab);
  EXPECT_EQ(reader.metadata().dtype, final_dtype);
  EXPECT_EQ(tokens_of(reader.split(Split::train)), train);
  EXPECT_EQ(tokens_of(reader.split(Split::val)), val_tokens);
  EXPECT_EQ(doc_starts_of(reader.split(Split::train)), (Offsets{0, early.size()}));
  EXPECT_EQ(doc_starts_of(reader.split(Split::val)), (Offsets{0, val.size()}));
}

INSTANTIATE_TEST_SUITE_P(TokenStore, ProvisionalIdsRoundTrip,
                         ::testing::Values(ProvisionalCase{199, 300,
                                                           TokenDtype::u16},  // no widening
                                           ProvisionalCase{300, 200, TokenDtype::u8},  // u8 to u16
                                           ProvisionalCase{70000, 70001, TokenDtype::u32},
                                           ProvisionalCase{70000, 1000, TokenDtype::u16}));

TEST(TokenStore, ProvisionalIdsNeedTheirFinalIdsAtCommit) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, kProvisionalIds, false);
  const Ids ids = {4, 9, 3};
  writer.append(Split::train, ids.data(), ids.size());
  EXPECT_EQ(error_message<StoreError>([&] { writer.commit(full_metadata(10)); }),
            path + ": the ids are provisional; commit needs their final ids");
  EXPECT_EQ(
      error_message<StoreError>([&] { writer.commit(full_metadata(10), reversed_ids(9, 10)); }),
      path + ": provisional id 9 has no final id (only 9 are given)");
  std::vector<text::TokenId> past_vocab = reversed_ids(10, 10);
  past_vocab[6] = 10;
  EXPECT_EQ(error_message<StoreError>([&] { writer.commit(full_metadata(10), past_vocab); }),
            path + ": final id 10 (of provisional id 6) is not below vocab_size 10");
  EXPECT_TRUE(entries_of(dir.path()).empty());
  writer.commit(full_metadata(10), reversed_ids(10, 10));
  EXPECT_EQ(tokens_of(TokenStoreReader(path).split(Split::train)), (Ids{5, 0, 6}));
}

TEST(TokenStore, FinalIdsAreRefusedWhenTheIdsAreFinalAlready) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 100, false);
  EXPECT_EQ(error_message<StoreError>([&] {
              writer.commit(full_metadata(100), {0, 1});
            }),
            path + ": the ids are final already; commit takes no final ids");
  EXPECT_TRUE(entries_of(dir.path()).empty());
}

}  // namespace
}  // namespace loom::data
