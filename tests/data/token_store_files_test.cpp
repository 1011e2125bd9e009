// The writer's promises about files: an existing store is replaced only
// when asked and only by a complete one; an abandoned or failed write
// leaves nothing behind; leftovers of a killed run do not get in the way;
// a folder that cannot be written is reported before any work.
#include <filesystem>
#include <string>
#include <vector>

#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using loom::testing::read_file;
using loom::testing::TempDir;
using loom::testing::write_file;
using testing::doc_starts_of;
using testing::files_in;
using testing::full_metadata;
using testing::token_pattern;
using testing::tokens_of;
using testing::write_store;
using Ids = std::vector<text::TokenId>;
using Offsets = std::vector<std::uint64_t>;

TEST(TokenStore, AnExistingStoreIsKeptUnlessOverwriteIsAsked) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_store(path, 100, {{Split::train, {1, 2, 3}}});
  const std::string original = read_file(path);
  try {
    TokenStoreWriter writer(path, 100, false);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), path + " exists; pass --force to replace it");
  }
  {
    // Asked to overwrite, but abandoned before commit.
    TokenStoreWriter writer(path, 100, true);
    const Ids ids = token_pattern(5000, 100);
    writer.append(Split::train, ids.data(), ids.size());
  }
  EXPECT_EQ(read_file(path), original);
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"corpus.h5"});

  TokenStoreWriter writer(path, 100, true);
  const Ids ids = {4, 5};
  writer.append(Split::train, ids.data(), ids.size());
  writer.commit(full_metadata());
  EXPECT_EQ(tokens_of(TokenStoreReader(path).split(Split::train)), ids);
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"corpus.h5"});
}

TEST(TokenStore, AnAbandonedWriterLeavesNoFiles) {
  TempDir dir;
  {
    TokenStoreWriter writer(dir.file("corpus.h5"), 1000, false);
    const Ids ids = token_pattern(700'000, 1000);
    writer.append(Split::train, ids.data(), ids.size());
    writer.append(Split::val, ids.data(), 10);
    EXPECT_FALSE(files_in(dir.path()).empty());  // the spill files
  }
  EXPECT_TRUE(files_in(dir.path()).empty());
}

TEST(TokenStore, AFailedCommitLeavesNoTemporaryFiles) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  {
    TokenStoreWriter writer(path, 100, false);
    const Ids ids = {1, 2};
    writer.append(Split::train, ids.data(), ids.size());
    // Someone else's file takes the name while the corpus streams in.
    write_file(path, "someone else's");
    try {
      writer.commit(full_metadata());
      FAIL() << "expected StoreError";
    } catch (const StoreError& e) {
      EXPECT_EQ(std::string(e.what()), path + " exists; pass --force to replace it");
    }
  }
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"corpus.h5"});
  EXPECT_EQ(read_file(path), "someone else's");
}

TEST(TokenStore, OnlyAFileIsEverReplaced) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  std::filesystem::create_directory(path);
  try {
    TokenStoreWriter writer(path, 100, true);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), path + " exists and is not a regular file; not replacing it");
  }
}

TEST(TokenStore, AFolderThatCannotBeWrittenIsReportedAtOnce) {
  TempDir dir;
  const std::string path = dir.file("missing/corpus.h5");
  try {
    TokenStoreWriter writer(path, 100, false);
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ".train.tmp: cannot create scratch file (No such file or directory)");
  }
}

TEST(TokenStore, LeftoversOfAKilledRunAreReplaced) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_file(path + ".tmp", "half a store");
  write_file(path + ".train.tmp", "stale tokens");
  write_file(path + ".val.docs.tmp", "stale offsets");
  write_store(path, 100, {{Split::train, {1, 2, 3}}, {Split::val, {4}}});
  const TokenStoreReader reader(path);
  EXPECT_EQ(tokens_of(reader.split(Split::train)), (Ids{1, 2, 3}));
  EXPECT_EQ(tokens_of(reader.split(Split::val)), (Ids{4}));
  EXPECT_EQ(doc_starts_of(reader.split(Split::val)), (Offsets{0}));
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"corpus.h5"});
}

}  // namespace
}  // namespace loom::data
