// Checkpoints against their DONE manifest's checksums: a flipped byte in any
// file is named; a version 1 DONE (sizes only, from Loom before checksums)
// still lists and is reported as having no checksums; a resume's choice
// passes over damaged checkpoints for the newest good one; set_aside keeps
// retention from counting a damaged checkpoint in place of a good one and
// never deletes it; and the manifest parser's errors for bad checksum fields.
#include "loom/run_dir/checkpoint_verification.hpp"

#include <filesystem>

#include "byte_flip.hpp"
#include "checkpoint_test_support.hpp"
#include "test_support.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loom/core/checksum.hpp"

namespace loom::run_dir {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;
using Steps = std::vector<std::int64_t>;

std::string crc32_of_file(const fs::path& path) {
  return crc32_hex(checksum_file(path).crc32);
}

TEST(CheckpointVerification, TheManifestRecordsEachFilesCrc32) {
  TempDir run;
  CheckpointStore store(run.path() / "checkpoints", 3);
  const Checkpoint written = store.write(5, payload_for(5));
  const nlohmann::json done = nlohmann::json::parse(read_file((written.dir / "DONE").string()));
  EXPECT_EQ(done["version"], 2);
  ASSERT_EQ(done["files"].size(), payload_files().size());
  for (const nlohmann::json& file : done["files"]) {
    EXPECT_EQ(file["crc32"], crc32_of_file(written.dir / file["path"].get<std::string>())) << file;
  }
  const CheckpointCheck check = verify_checkpoint(written);
  EXPECT_EQ(check.health, CheckpointHealth::good);
  EXPECT_EQ(check.problem, "");
  EXPECT_EQ(check.files, 3U);
  EXPECT_EQ(check.bytes_read, 300U * 1024 + 200 * 1024 + 5000);
}

TEST(CheckpointVerification, AFlippedByteInAnyFileIsNamed) {
  TempDir run;
  CheckpointStore store(run.path() / "checkpoints", 3);
  const Checkpoint written = store.write(5, payload_for(5));
  for (const PayloadFile& file : payload_files()) {
    const fs::path path = written.dir / file.path;
    const std::string recorded = crc32_of_file(path);
    flip_byte(path);
    const CheckpointCheck check = verify_checkpoint(written);
    EXPECT_EQ(check.health, CheckpointHealth::damaged);
    EXPECT_EQ(check.problem,
              fmt::format("{} does not match its checksum (crc32 {} recorded, {} read)", file.path,
                          recorded, crc32_of_file(path)));
    // Sizes still match: only the checksum tells.
    EXPECT_EQ(why_incomplete(written), "");
    flip_byte(path);
    EXPECT_EQ(verify_checkpoint(written).health, CheckpointHealth::good);
  }
}

// A checkpoint written by Loom before checksums: DONE version 1, sizes only.
void make_version_1(const Checkpoint& checkpoint) {
  const fs::path done = checkpoint.dir / "DONE";
  nlohmann::json json = nlohmann::json::parse(read_file(done.string()));
  json["version"] = 1;
  for (nlohmann::json& file : json["files"])
    file.erase("crc32");
  write_file(done.string(), json.dump(2) + "\n");
}

TEST(CheckpointVerification, AVersion1DoneStillListsAndHasNoChecksums) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 3);
  const Checkpoint old = store.write(5, payload_for(5));
  make_version_1(old);
  EXPECT_EQ(steps_of(list_checkpoints(dir)), Steps{5});
  EXPECT_EQ(latest_checkpoint(dir), old);
  const CheckpointCheck check = verify_checkpoint(old);
  EXPECT_EQ(check.health, CheckpointHealth::no_checksums);
  EXPECT_EQ(check.problem,
            "no checksums: its DONE is version 1, written by a Loom before checksums; sizes match");
  EXPECT_EQ(newest_undamaged_checkpoint(dir).chosen->checkpoint, old);
  // Its sizes are still checked.
  fs::resize_file(old.dir / "model.bin", 10);
  EXPECT_EQ(verify_checkpoint(old).problem, "model.bin has 10 bytes, DONE says 307200");
}

TEST(CheckpointVerification, AResumeTakesTheNewestUndamagedOne) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 5);
  for (std::int64_t step = 1; step <= 4; ++step)
    store.write(step, payload_for(step));
  flip_byte(dir / "step-00000004" / "optimizer.bin");
  flip_byte(dir / "step-00000003" / "rng/rank-0.bin");
  const ResumeChoice choice = newest_undamaged_checkpoint(dir);
  ASSERT_TRUE(choice.chosen);
  EXPECT_EQ(choice.chosen->checkpoint.step, 2);
  ASSERT_EQ(choice.passed_over.size(), 2U);
  EXPECT_EQ(choice.passed_over[0].checkpoint.step, 4);
  EXPECT_EQ(choice.passed_over[0].problem.rfind("optimizer.bin does not match its checksum", 0),
            0U);
  EXPECT_EQ(choice.passed_over[1].checkpoint.step, 3);
  EXPECT_EQ(choice.passed_over[1].problem.rfind("rng/rank-0.bin does not match", 0), 0U);
  // Older checkpoints are not read: step 1 is not among them.
  flip_byte(dir / "step-00000002" / "model.bin");
  flip_byte(dir / "step-00000001" / "model.bin");
  const ResumeChoice none = newest_undamaged_checkpoint(dir);
  EXPECT_FALSE(none.chosen);
  EXPECT_EQ(none.passed_over.size(), 4U);
  // verify_checkpoints reports every folder and changes nothing.
  const std::vector<CheckpointCheck> all = verify_checkpoints(dir);
  ASSERT_EQ(all.size(), 4U);
  for (const CheckpointCheck& check : all)
    EXPECT_EQ(check.health, CheckpointHealth::damaged) << check.checkpoint.step;
  EXPECT_EQ(entries_of(dir), (std::vector<std::string>{"latest", "step-00000001", "step-00000002",
                                                       "step-00000003", "step-00000004"}));
}

// keep_last 2 with steps 4 and 8 good and 10 damaged (a stop's checkpoint,
// off the interval): a resume from 8 sets 10 aside, so the next checkpoint
// (12) keeps 8, where counting 10 would have deleted the good 8 and kept
// the damaged 10; and step 10's folder stays for a person to look at,
// through every later pruning.
TEST(CheckpointVerification, SetAsideKeepsRetentionFromKeepingADamagedOneOverAGoodOne) {
  TempDir run;
  const fs::path dir = run.path() / "checkpoints";
  CheckpointStore store(dir, 2);
  store.write(4, payload_for(4));
  const Checkpoint good = store.write(8, payload_for(8));
  const Checkpoint damaged = store.write(10, payload_for(10));
  flip_byte(damaged.dir / "model.bin");
  EXPECT_EQ(steps_of(store.list()), (Steps{8, 10}));

  const ResumeChoice choice = newest_undamaged_checkpoint(dir);
  ASSERT_TRUE(choice.chosen);
  EXPECT_EQ(choice.chosen->checkpoint, good);
  EXPECT_EQ(store.set_aside(damaged), dir / "step-00000010.damaged");
  EXPECT_EQ(steps_of(store.list()), Steps{8});
  EXPECT_EQ(steps_of(set_aside_checkpoints(dir)), Steps{10});

  store.write(12, payload_for(12));
  EXPECT_EQ(steps_of(store.list()), (Steps{8, 12}));
  EXPECT_TRUE(payload_matches(good));
  store.write(16, payload_for(16));
  EXPECT_EQ(steps_of(store.list()), (Steps{12, 16}));
  ASSERT_TRUE(fs::exists(dir / "step-00000010.damaged" / "model.bin"));
  EXPECT_EQ(verify_checkpoint({10, dir / "step-00000010.damaged"}).health,
            CheckpointHealth::damaged);
  // Damaged again: a second name, the first kept.
  flip_byte(dir / "step-00000016" / "model.bin");
  EXPECT_EQ(store.set_aside({16, dir / "step-00000016"}), dir / "step-00000016.damaged");
  store.write(16, payload_for(16));
  EXPECT_EQ(store.set_aside({16, dir / "step-00000016"}), dir / "step-00000016.damaged-2");
  EXPECT_EQ(steps_of(set_aside_checkpoints(dir)), (Steps{10, 16, 16}));
}

// The parser's messages for bad checksum fields, as verify and the resume
// warning show them.
TEST(CheckpointVerification, MalformedChecksumFieldsAreNamed) {
  TempDir run;
  const fs::path dir = run.path() / "step-00000001";
  fs::create_directories(dir);
  write_file((dir / "a").string(), "abc");
  const auto problem_with = [&](const std::string& done) {
    write_file((dir / "DONE").string(), done);
    return verify_checkpoint({1, dir}).problem;
  };
  const std::string good_crc = crc32_of_file(dir / "a");
  const auto done_with = [](const std::string& version, const std::string& entry) {
    return R"({"format": "loom-checkpoint", "version": )" + version + R"(, "step": 1, "files": [)" +
           entry + "]}";
  };
  EXPECT_EQ(
      problem_with(done_with("2", R"({"path": "a", "bytes": 3, "crc32": ")" + good_crc + R"("})")),
      "");
  EXPECT_EQ(problem_with(done_with("2", R"({"path": "a", "bytes": 3})")),
            R"(DONE lists a file entry {"bytes":3,"path":"a"} without a crc32)");
  for (const std::string crc : {R"("xyz")", R"("1a2b3c4")", R"("1a2b3c4d5")", R"("1a2b3c4g")",
                                "439041101", "null", R"(["1a2b3c4d"])"}) {
    EXPECT_EQ(problem_with(done_with("2", R"({"path": "a", "bytes": 3, "crc32": )" + crc + "}")),
              R"(DONE lists a file entry {"bytes":3,"crc32":)" + nlohmann::json::parse(crc).dump() +
                  R"(,"path":"a"} whose crc32 is not 8 hex digits)");
  }
  // Upper-case hex is read; another value is a mismatch, not a parse error.
  std::string upper = good_crc;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(
      problem_with(done_with("2", R"({"path": "a", "bytes": 3, "crc32": ")" + upper + R"("})")),
      "");
  EXPECT_EQ(problem_with(done_with("2", R"({"path": "a", "bytes": 3, "crc32": "00000000"})")),
            "a does not match its checksum (crc32 00000000 recorded, " + good_crc + " read)");
  for (const std::string version : {"3", "0", R"("2")", "2.5", "null"}) {
    EXPECT_EQ(problem_with(done_with(version, R"({"path": "a", "bytes": 3})")),
              "DONE is not a loom-checkpoint marker of version 1 or 2")
        << version;
  }
  // Version 1 has sizes only.
  EXPECT_EQ(problem_with(done_with("1", R"({"path": "a", "bytes": 3})")),
            "no checksums: its DONE is version 1, written by a Loom before checksums; sizes match");
}

}  // namespace
}  // namespace loom::run_dir
