// CheckpointStore's promises, one situation each: a written checkpoint
// reads back with its DONE marker and pointer; folders that are not
// complete (no DONE, a truncated file, DONE for another step, a .tmp-
// leftover) are never returned; stale and dangling pointers do not matter;
// retention keeps the last K plus best and never what a pointer names; and
// the errors name the path.
#include "loom/run_dir/checkpoint_store.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "checkpoint_test_support.hpp"
#include "test_support.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "loom/core/checksum.hpp"
#include "loom/core/log.hpp"

namespace loom::run_dir {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;
using Steps = std::vector<std::int64_t>;
using Names = std::vector<std::string>;

TEST(CheckpointStore, WrittenCheckpointReadsBack) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 3);
  EXPECT_EQ(store.latest(), std::nullopt);
  const Checkpoint written = store.write(500, payload_for(500));
  EXPECT_EQ(written, (Checkpoint{500, dir / "step-00000500"}));
  EXPECT_EQ(store.latest(), written);
  EXPECT_EQ(latest_checkpoint(dir), written);
  EXPECT_TRUE(payload_matches(written));
  EXPECT_EQ(entries_of(dir), (Names{"latest", "step-00000500"}));
  EXPECT_EQ(read_file((dir / "latest").string()), "step-00000500\n");
  EXPECT_EQ(entries_of(written.dir), (Names{"DONE", "model.bin", "optimizer.bin", "rng"}));
  const auto crc32_of = [&](const char* file) {
    return crc32_hex(checksum_file(written.dir / file).crc32);
  };
  EXPECT_EQ(
      read_file((written.dir / "DONE").string()),
      fmt::format(R"({{
  "files": [
    {{
      "bytes": 307200,
      "crc32": "{}",
      "path": "model.bin"
    }},
    {{
      "bytes": 204800,
      "crc32": "{}",
      "path": "optimizer.bin"
    }},
    {{
      "bytes": 5000,
      "crc32": "{}",
      "path": "rng/rank-0.bin"
    }}
  ],
  "format": "loom-checkpoint",
  "step": 500,
  "version": 2
}}
)",
                  crc32_of("model.bin"), crc32_of("optimizer.bin"), crc32_of("rng/rank-0.bin")));
}

TEST(CheckpointStore, ReadingAMissingFolderFindsNothingAndCreatesNothing) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  EXPECT_EQ(latest_checkpoint(dir), std::nullopt);
  EXPECT_EQ(best_checkpoint(dir), std::nullopt);
  EXPECT_TRUE(list_checkpoints(dir).empty());
  EXPECT_FALSE(fs::exists(dir));
}

TEST(CheckpointStore, IncompleteFoldersAreNeverReturned) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  {
    CheckpointStore writer(dir, 10);
    for (std::int64_t step = 1; step <= 7; ++step)
      writer.write(step, payload_for(step));
  }
  fs::remove(dir / "step-00000002" / "DONE");
  fs::resize_file(dir / "step-00000003" / "optimizer.bin", 1000);
  fs::remove(dir / "step-00000004" / "rng" / "rank-0.bin");
  fs::copy_file(dir / "step-00000001" / "DONE", dir / "step-00000005" / "DONE",
                fs::copy_options::overwrite_existing);
  write_file((dir / "step-00000006" / "DONE").string(), "{");
  fs::rename(dir / "step-00000007", dir / "step-7");  // not a name the store writes
  fs::copy(dir / "step-00000001", dir / ".tmp-step-00000008-999", fs::copy_options::recursive);
  write_file((dir / "latest").string(), "step-00000003\n");

  const Checkpoint good{1, dir / "step-00000001"};
  EXPECT_EQ(steps_of(list_checkpoints(dir)), Steps{1});
  // Each folder newer than the one returned is named with its reason.
  log::Options plain;
  plain.timestamps = false;
  log::configure(plain);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(latest_checkpoint(dir), good);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  log::configure(log::Options{});
  const std::string folder = "warning: " + dir.string() + "/step-0000000";
  EXPECT_EQ(warnings,
            folder + "2: not a complete checkpoint (no DONE marker); passed over\n" + folder +
                "3: not a complete checkpoint (optimizer.bin has 1000 bytes, DONE says "
                "204800); passed over\n" +
                folder +
                "4: not a complete checkpoint (rng/rank-0.bin is missing or not a file); "
                "passed over\n" +
                folder + "5: not a complete checkpoint (DONE is for step 1); passed over\n" +
                folder + "6: not a complete checkpoint (DONE is not a JSON object); passed over\n");

  // The writer clears .tmp- leftovers on open; step-N folders it leaves.
  CheckpointStore store(dir, 10);
  EXPECT_EQ(entries_of(dir), (Names{"latest", "step-00000001", "step-00000002", "step-00000003",
                                    "step-00000004", "step-00000005", "step-00000006", "step-7"}));
  EXPECT_EQ(store.latest(), good);
}

TEST(CheckpointStore, PointersLeftByACrashDoNotMatter) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 3);
  store.write(1, payload_for(1));
  const Checkpoint second = store.write(2, payload_for(2));

  // Killed between the folder's rename and the pointer's: the pointer is stale.
  write_file((dir / "latest").string(), "step-00000001\n");
  EXPECT_EQ(store.latest(), second);
  // The pointer is missing, or is not a checkpoint name.
  fs::remove(dir / "latest");
  EXPECT_EQ(store.latest(), second);
  write_file((dir / "latest").string(), "garbage");
  EXPECT_EQ(store.latest(), second);
  // The pointer names a folder that is gone.
  write_file((dir / "latest").string(), "step-00000009\n");
  EXPECT_EQ(store.latest(), second);
  fs::remove_all(second.dir);
  write_file((dir / "latest").string(), "step-00000002\n");
  EXPECT_EQ(store.latest(), (Checkpoint{1, dir / "step-00000001"}));
}

TEST(CheckpointStore, RetentionKeepsTheLastAndTheBest) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 2);
  for (std::int64_t step = 1; step <= 5; ++step)
    store.write(step * 100, payload_for(step * 100));
  EXPECT_EQ(steps_of(store.list()), (Steps{400, 500}));

  store.mark_best(400);
  EXPECT_EQ(read_file((dir / "best").string()), "step-00000400\n");
  store.write(600, payload_for(600));
  store.write(700, payload_for(700));
  EXPECT_EQ(steps_of(store.list()), (Steps{400, 600, 700}));
  EXPECT_EQ(store.best(), (Checkpoint{400, dir / "step-00000400"}));
  EXPECT_EQ(best_checkpoint(dir), store.best());

  // A new best frees the old one.
  store.mark_best(700);
  EXPECT_EQ(steps_of(store.list()), (Steps{600, 700}));
  EXPECT_EQ(entries_of(dir), (Names{"best", "latest", "step-00000600", "step-00000700"}));
  for (const Checkpoint& kept : store.list())
    EXPECT_TRUE(payload_matches(kept));
}

TEST(CheckpointStore, KeepsWhatLatestNamesEvenBelowTheLastK) {
  // A run resumed from an older checkpoint writes steps below existing ones:
  // the one just written is never the one deleted.
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 1);
  store.write(900, payload_for(900));
  const Checkpoint lower = store.write(300, payload_for(300));
  EXPECT_EQ(steps_of(store.list()), (Steps{300, 900}));
  EXPECT_TRUE(payload_matches(lower));
  EXPECT_EQ(read_file((dir / "latest").string()), "step-00000300\n");
}

// Retention counts complete checkpoints only: folders a crash left half
// written (no DONE, or a DONE that does not match) neither count towards
// keep_last nor get picked to resume from, so the one good checkpoint is
// never deleted to make room for them.
TEST(CheckpointStore, RetentionNeverDeletesTheOnlyGoodCheckpointForPartialOnes) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 1);
  const Checkpoint good = store.write(3, payload_for(3));
  fs::create_directories(dir / "step-00000007");
  write_file((dir / "step-00000007" / "model.bin").string(), "half");
  fs::copy(good.dir, dir / "step-00000008", fs::copy_options::recursive);
  fs::resize_file(dir / "step-00000008" / "optimizer.bin", 10);
  write_file((dir / "latest").string(), "step-00000008\n");
  // A resume picks step 3, the only complete one, and the store, reopened
  // with keep_last 1, keeps it.
  EXPECT_EQ(latest_checkpoint(dir), good);
  CheckpointStore reopened(dir, 1);
  EXPECT_EQ(steps_of(reopened.list()), Steps{3});
  EXPECT_TRUE(payload_matches(good));
  // The next checkpoint replaces it; the partial folders stay for a person
  // to look at, never counted.
  const Checkpoint next = reopened.write(4, payload_for(4));
  EXPECT_EQ(steps_of(reopened.list()), Steps{4});
  EXPECT_EQ(reopened.latest(), next);
  EXPECT_TRUE(fs::exists(dir / "step-00000007"));
  EXPECT_TRUE(fs::exists(dir / "step-00000008"));
}

TEST(CheckpointStore, AFailingFillLeavesNothingBehind) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 3);
  const Checkpoint good = store.write(1, payload_for(1));
  EXPECT_THROW(store.write(2,
                           [](const fs::path& temp) {
                             payload_for(2)(temp);
                             throw std::runtime_error("disk full");
                           }),
               std::runtime_error);
  EXPECT_EQ(entries_of(dir), (Names{"latest", "step-00000001"}));
  EXPECT_EQ(store.latest(), good);
}

// Replaced by a new write, but not deleted: set aside for a person to look at.
TEST(CheckpointStore, AnIncompleteFolderOfTheSameStepIsSetAsideAndReplaced) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 3);
  fs::create_directories(dir / "step-00000004");
  write_file((dir / "step-00000004" / "model.bin").string(), "half");
  const Checkpoint written = store.write(4, payload_for(4));
  EXPECT_TRUE(payload_matches(written));
  EXPECT_EQ(entries_of(dir), (Names{"latest", "step-00000004", "step-00000004.damaged"}));
  EXPECT_EQ(read_file((dir / "step-00000004.damaged" / "model.bin").string()), "half");
}

TEST(CheckpointStore, ErrorsNameThePath) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  const std::string where = dir.string();
  CheckpointStore store(dir, 3);
  store.write(4, payload_for(4));
  EXPECT_EQ(error_message<Error>([&] { store.write(4, payload_for(4)); }),
            where +
                "/step-00000004: a complete checkpoint of step 4 already exists; not "
                "replacing it");
  EXPECT_EQ(error_message<Error>([&] { store.mark_best(5); }),
            where +
                "/step-00000005: cannot mark step 5 as best: not a complete checkpoint (no "
                "DONE marker)");
  EXPECT_EQ(error_message<Error>([&] { store.write(-1, payload_for(-1)); }),
            where + ": cannot write a checkpoint for negative step -1");
  EXPECT_EQ(error_message<Error>([&] { CheckpointStore(dir, 0); }),
            where + ": keep_last = 0; at least 1 checkpoint must be kept");
  const std::string temp = where + "/.tmp-step-00000006-" + std::to_string(::getpid());
  EXPECT_EQ(error_message<Error>([&] {
              store.write(6, [](const fs::path& d) { write_file((d / "DONE").string(), "x"); });
            }),
            temp +
                "/DONE: a payload file may not be called DONE: the store writes that "
                "marker itself");
  EXPECT_EQ(error_message<Error>([&] {
              store.write(6, [](const fs::path& d) { fs::create_symlink("/etc/passwd", d / "l"); });
            }),
            temp + "/l: checkpoint payload must be regular files and folders; this is not one");
  write_file(run.file("file"), "");
  EXPECT_EQ(error_message<Error>([&] { CheckpointStore(run.path() / "file" / "checkpoints", 1); }),
            run.file("file") + "/checkpoints: cannot create checkpoints folder (Not a directory)");
  // A folder that cannot be read is not an empty one: resume must not
  // quietly start from scratch.
  EXPECT_EQ(error_message<Error>([&] { latest_checkpoint(run.path() / "file"); }),
            run.file("file") + ": cannot list checkpoints (Not a directory)");
  EXPECT_EQ(entries_of(dir), (Names{"latest", "step-00000004"}));
}

}  // namespace
}  // namespace loom::run_dir
