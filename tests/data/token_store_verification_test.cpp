// The writer records each dataset's CRC-32 as it streams it in, whatever
// the ids went through on the way (narrowed, remapped from provisional
// ids); verify_store reads every dataset again and names the one whose
// bytes changed; a store without the attribute is reported as such; a bad
// attribute is refused with the file named.
#include <filesystem>

#include "byte_flip.hpp"
#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/checksum.hpp"
#include "loom/data/store_verification.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

const std::vector<std::string> kDatasets = {"/train/tokens", "/train/doc_offsets", "/val/tokens",
                                            "/val/doc_offsets"};

std::vector<Document> documents(std::uint32_t vocab_size) {
  return {{Split::train, token_pattern(5000, vocab_size)},
          {Split::val, token_pattern(700, vocab_size, 3)},
          {Split::train, token_pattern(3000, vocab_size, 7)}};
}

TEST(StoreVerification, EveryDatasetIsRecordedAndMatches) {
  for (const std::uint32_t vocab_size : {200U, 3000U, 70000U}) {  // uint8, uint16, uint32
    TempDir dir;
    const std::string path = dir.file("store.h5");
    write_store(path, vocab_size, documents(vocab_size));
    const TokenStoreReader reader(path);
    ASSERT_EQ(reader.metadata().checksums.size(), 4U);
    // The recorded value is the CRC-32 of the values as the reader sees them.
    const SplitView train = reader.split(Split::train);
    Crc32 crc;
    crc.update(train.tokens, train.size * dtype_bytes(train.dtype));
    EXPECT_EQ(reader.metadata().checksums[0].dataset, "/train/tokens");
    EXPECT_EQ(reader.metadata().checksums[0].crc32, crc.value());
    EXPECT_EQ(reader.metadata().checksums[0].bytes, train.size * dtype_bytes(train.dtype));

    const StoreCheck check = verify_store(path);
    EXPECT_TRUE(check.has_checksums);
    ASSERT_EQ(check.datasets.size(), 4U);
    for (std::size_t i = 0; i < kDatasets.size(); ++i) {
      EXPECT_EQ(check.datasets[i].dataset, kDatasets[i]);
      EXPECT_EQ(check.datasets[i].problem, "") << kDatasets[i];
    }
  }
}

TEST(StoreVerification, ProvisionalIdsAreSummedAsStored) {
  TempDir dir;
  const std::string path = dir.file("store.h5");
  TokenStoreWriter writer(path, kProvisionalIds, false);
  const std::vector<text::TokenId> ids = {900, 5, 900, 7, 5, 300};
  writer.append(Split::train, ids.data(), ids.size());
  writer.append(Split::val, ids.data(), 3);
  std::vector<text::TokenId> final_ids(901, 0);
  final_ids[5] = 1;
  final_ids[7] = 2;
  final_ids[300] = 3;
  final_ids[900] = 4;
  data::StoreMetadata metadata = full_metadata(10);
  writer.commit(metadata, final_ids);
  const StoreCheck check = verify_store(path);
  for (const DatasetCheck& dataset : check.datasets)
    EXPECT_EQ(dataset.problem, "") << dataset.dataset;
}

TEST(StoreVerification, AFlippedByteNamesItsDataset) {
  TempDir dir;
  const std::string path = dir.file("store.h5");
  write_store(path, 3000, documents(3000));
  for (std::size_t i = 0; i < kDatasets.size(); ++i) {
    SCOPED_TRACE(kDatasets[i]);
    std::uint64_t offset = 0;
    {
      StorePatch patch(path);
      offset = patch.offset_of(kDatasets[i]);
    }
    flip_byte(path, offset + 1);
    const StoreCheck check = verify_store(path);
    for (std::size_t k = 0; k < kDatasets.size(); ++k) {
      if (k != i) {
        EXPECT_EQ(check.datasets[k].problem, "");
        continue;
      }
      EXPECT_EQ(check.datasets[k].problem.rfind("does not match its checksum (crc32 ", 0), 0U)
          << check.datasets[k].problem;
    }
    flip_byte(path, offset + 1);
  }
}

TEST(StoreVerification, AStoreWithoutChecksumsSaysSo) {
  TempDir dir;
  const std::string path = dir.file("store.h5");
  write_store(path, 3000, documents(3000));
  StorePatch(path).delete_attribute("checksums");
  EXPECT_EQ(open_error(path), "opened");
  const StoreCheck check = verify_store(path);
  EXPECT_FALSE(check.has_checksums);
  EXPECT_TRUE(check.datasets.empty());
}

TEST(StoreVerification, ABadChecksumsAttributeIsRefused) {
  TempDir dir;
  const std::string path = dir.file("store.h5");
  write_store(path, 3000, documents(3000));
  StorePatch(path).set_string_attribute("checksums", R"({"a": 1})");
  EXPECT_EQ(open_error(path), path +
                                  ": attribute checksums is not a JSON list of {dataset, bytes, "
                                  "crc32}: found a JSON object");
  StorePatch(path).set_string_attribute(
      "checksums", R"([{"dataset": "/train/tokens", "bytes": 1, "crc32": 2}])");
  EXPECT_EQ(
      error_message<StoreError>([&] { verify_store(path); }),
      path + ": attribute checksums should name /train/doc_offsets once; it names it 0 times");
}

}  // namespace
}  // namespace loom::data
