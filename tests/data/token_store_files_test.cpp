// The writer's promises about files: an existing store is replaced only
// when asked and only by a complete one; an abandoned, failed or killed
// write leaves nothing behind (scratch files have no name); leftovers of a
// killed run do not get in the way; a folder that cannot be written is
// reported before any work.
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

using Ids = std::vector<text::TokenId>;
using Offsets = std::vector<std::uint64_t>;

TEST(TokenStore, AnExistingStoreIsKeptUnlessOverwriteIsAsked) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_store(path, 100, {{Split::train, {1, 2, 3}}});
  const std::string original = read_file(path);
  EXPECT_EQ(error_message<StoreError>([&] { TokenStoreWriter writer(path, 100, false); }),
            path + " exists; pass --force to replace it");
  {
    // Asked to overwrite, but abandoned before commit.
    TokenStoreWriter writer(path, 100, true);
    const Ids ids = token_pattern(5000, 100);
    writer.append(Split::train, ids.data(), ids.size());
  }
  EXPECT_EQ(read_file(path), original);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});

  TokenStoreWriter writer(path, 100, true);
  const Ids ids = {4, 5};
  writer.append(Split::train, ids.data(), ids.size());
  writer.commit(full_metadata(100));
  EXPECT_EQ(tokens_of(TokenStoreReader(path).split(Split::train)), ids);
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});
}

TEST(TokenStore, AnAbandonedWriterLeavesNoFiles) {
  TempDir dir;
  {
    TokenStoreWriter writer(dir.file("corpus.h5"), 1000, false);
    const Ids ids = token_pattern(700'000, 1000);
    writer.append(Split::train, ids.data(), ids.size());
    writer.append(Split::val, ids.data(), 10);
  }
  EXPECT_TRUE(entries_of(dir.path()).empty());
}

// The scratch files are unlinked when created: none shows while the corpus
// streams in (past the 1 MiB buffer, so they hold data), and commit reads
// them back all the same.
TEST(TokenStore, NoScratchFileIsVisibleWhileWriting) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  TokenStoreWriter writer(path, 1000, false);
  EXPECT_TRUE(entries_of(dir.path()).empty());
  const Ids ids = token_pattern(700'000, 1000);
  writer.append(Split::train, ids.data(), ids.size());
  writer.begin_document(Split::train);
  writer.append(Split::train, ids.data(), 10);
  writer.append(Split::val, ids.data(), 20);
  writer.move_train_tail_to_val(5);
  EXPECT_TRUE(entries_of(dir.path()).empty());
  writer.commit(full_metadata(1000));
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});

  const TokenStoreReader reader(path);
  Ids train = ids;
  train.insert(train.end(), ids.begin(), ids.begin() + 5);
  Ids val(ids.begin(), ids.begin() + 20);
  val.insert(val.end(), ids.begin() + 5, ids.begin() + 10);
  EXPECT_EQ(tokens_of(reader.split(Split::train)), train);
  EXPECT_EQ(doc_starts_of(reader.split(Split::train)), (Offsets{0, 700'000}));
  EXPECT_EQ(tokens_of(reader.split(Split::val)), val);
  EXPECT_EQ(doc_starts_of(reader.split(Split::val)), (Offsets{0, 20}));
}

// No destructor runs in a killed process; the kernel frees the unlinked
// scratch files with its descriptors.
TEST(TokenStore, AKilledWriterLeavesNoFiles) {
  TempDir dir;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      TokenStoreWriter writer(dir.file("corpus.h5"), 1000, false);
      const Ids ids = token_pattern(700'000, 1000);
      writer.append(Split::train, ids.data(), ids.size());
      writer.append(Split::val, ids.data(), 10);
      ::raise(SIGKILL);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed before it was killed";
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_TRUE(entries_of(dir.path()).empty());
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
    EXPECT_EQ(error_message<StoreError>([&] { writer.commit(full_metadata(100)); }),
              path + " exists; pass --force to replace it");
  }
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});
  EXPECT_EQ(read_file(path), "someone else's");
}

TEST(TokenStore, OnlyAFileIsEverReplaced) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  std::filesystem::create_directory(path);
  EXPECT_EQ(error_message<StoreError>([&] { TokenStoreWriter writer(path, 100, true); }),
            path + " exists and is not a regular file; not replacing it");
}

TEST(TokenStore, AFolderThatCannotBeWrittenIsReportedAtOnce) {
  TempDir dir;
  const std::string path = dir.file("missing/corpus.h5");
  EXPECT_EQ(error_message<StoreError>([&] { TokenStoreWriter writer(path, 100, false); }),
            path + ".train.tmp: cannot create scratch file (No such file or directory)");
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
  EXPECT_EQ(entries_of(dir.path()), std::vector<std::string>{"corpus.h5"});
}

}  // namespace
}  // namespace loom::data
