// Checksummed checkpoints and stores as a user meets them: `loom verify` on
// a run and on a token store, and `loom train` resuming past a damaged
// checkpoint. The acceptance test flips one byte in each file of the latest
// checkpoint in turn (every file its DONE lists): each time resume warns,
// naming the file, and goes on from the previous checkpoint to the end, and
// `loom verify` names the file and fails.
#include <filesystem>

#include "byte_flip.hpp"
#include "data/store_test_support.hpp"
#include "test_support.hpp"
#include "tiny_run.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loom/core/checksum.hpp"

namespace loom {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

// Checkpoints at steps 4, 8 and 12, all kept.
constexpr const char* kSettings =
    " --set checkpoint.interval=4 --set checkpoint.keep_last=3 --set checkpoint.keep_best=false";

class VerifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const CommandResult prepared = prepare_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
    const CommandResult trained = train("tiny");
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }

  CommandResult train(const std::string& name, const std::string& more = "") const {
    return run_loom("train '" + config_ + "'" + kSettings + " --set run.name=" + name + more);
  }

  fs::path run_dir(const std::string& name) const { return dir_.path() / "runs" / name; }

  // A copy of the trained run, to damage.
  fs::path copy_run(const std::string& name) const {
    fs::copy(run_dir("tiny"), run_dir(name), fs::copy_options::recursive);
    return run_dir(name);
  }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
};

std::vector<std::string> files_in_done(const fs::path& checkpoint) {
  const nlohmann::json done = nlohmann::json::parse(read_file((checkpoint / "DONE").string()));
  std::vector<std::string> files;
  for (const nlohmann::json& file : done["files"])
    files.push_back(file["path"]);
  return files;
}

std::string crc32_of(const fs::path& path) {
  return crc32_hex(checksum_file(path).crc32);
}

TEST_F(VerifyCli, AGoodRunVerifies) {
  const CommandResult verified = run_loom("verify '" + run_dir("tiny").string() + "'");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(verified.out.rfind(run_dir("tiny").string() + ": 3 checkpoint folders\n", 0), 0U)
      << verified.out;
  EXPECT_NE(verified.out.find("  step 12       good          step-00000012: 6 files, "),
            std::string::npos)
      << verified.out;
  EXPECT_NE(verified.out.find("; 3 good, 0 damaged, 0 without checksums\n"), std::string::npos);
  EXPECT_NE(verified.out.find(" MB/s)"), std::string::npos);
}

TEST_F(VerifyCli, AFlippedByteInEachFileOfTheLatestCheckpointIsPassedOver) {
  const std::vector<std::string> files =
      files_in_done(run_dir("tiny") / "checkpoints" / "step-00000012");
  ASSERT_EQ(files, (std::vector<std::string>{"config.yaml", "model.pt", "optimizer.pt", "rng.pt",
                                             "state.json", "tokenizer.json"}));
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    const std::string name = "flip" + std::to_string(i);
    const fs::path run = copy_run(name);
    const fs::path latest = run / "checkpoints" / "step-00000012";
    const std::string recorded = crc32_of(latest / files[i]);
    flip_byte(latest / files[i]);
    const std::string flipped = crc32_of(latest / files[i]);
    const std::string problem = fmt::format(
        "{} does not match its checksum (crc32 {} recorded, {} read)", files[i], recorded, flipped);

    const CommandResult verified = run_loom("verify '" + run.string() + "'");
    EXPECT_EQ(verified.exit_code, 6) << verified.out << verified.err;
    EXPECT_NE(verified.out.find("  step 12       damaged       step-00000012: " + problem + "\n"),
              std::string::npos)
        << verified.out;
    EXPECT_NE(verified.out.find("; 2 good, 1 damaged, 0 without checksums\n"), std::string::npos);

    const CommandResult resumed = train(name);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.err.find(fmt::format("warning: checkpoint step 12 ({}): {}; passing over it "
                                           "for step 8 (kept as step-00000012.damaged)\n",
                                           latest.string(), problem)),
              std::string::npos)
        << resumed.err;
    EXPECT_NE(resumed.out.find(fmt::format("resuming {} at step 8 of 12", run.string())),
              std::string::npos)
        << resumed.out;
    EXPECT_NE(resumed.out.find("trained steps 9..12; "), std::string::npos) << resumed.out;

    // The run's checkpoints are good again; the damaged one is kept aside.
    const CommandResult after = run_loom("verify '" + run.string() + "'");
    EXPECT_EQ(after.exit_code, 0) << after.out;
    EXPECT_NE(after.out.find("; 3 good, 0 damaged, 0 without checksums\n"), std::string::npos);
    EXPECT_NE(after.out.find("step 12       set aside     step-00000012.damaged: "),
              std::string::npos)
        << after.out;
    EXPECT_EQ(crc32_of(run / "checkpoints" / "step-00000012.damaged" / files[i]), flipped);
  }
}

TEST_F(VerifyCli, NoGoodCheckpointIsAnErrorNamingEachAndChangesNothing) {
  const fs::path run = copy_run("broken");
  const fs::path checkpoints = run / "checkpoints";
  for (const char* step : {"step-00000004", "step-00000008", "step-00000012"})
    flip_byte(checkpoints / step / "model.pt");
  const std::vector<std::string> before = entries_of(checkpoints);
  const CommandResult resumed = train("broken");
  EXPECT_EQ(resumed.exit_code, 6) << resumed.err;
  EXPECT_NE(resumed.err.find("error: no checkpoint in " + checkpoints.string() +
                             " passes verification, so the run cannot resume:"),
            std::string::npos)
      << resumed.err;
  for (const char* step : {"4", "8", "12"}) {
    EXPECT_NE(resumed.err.find(fmt::format("checkpoint step {} (", step)), std::string::npos);
  }
  EXPECT_NE(resumed.err.find("/step-00000004): model.pt does not match its checksum (crc32 "),
            std::string::npos);
  EXPECT_EQ(entries_of(checkpoints), before);
  EXPECT_EQ(run_loom("verify '" + run.string() + "'").exit_code, 6);
}

// A run made by a Loom before checksums: every DONE version 1, sizes only.
TEST_F(VerifyCli, ARunWithVersion1ManifestsStillResumes) {
  const fs::path run = copy_run("old");
  for (const char* step : {"step-00000004", "step-00000008", "step-00000012"}) {
    const std::string done = (run / "checkpoints" / step / "DONE").string();
    nlohmann::json json = nlohmann::json::parse(read_file(done));
    json["version"] = 1;
    for (nlohmann::json& file : json["files"])
      file.erase("crc32");
    write_file(done, json.dump(2) + "\n");
  }
  const CommandResult verified = run_loom("verify '" + run.string() + "'");
  EXPECT_EQ(verified.exit_code, 7) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("  step 12       no checksums  step-00000012: no checksums: its DONE "
                              "is version 1, written by a Loom before checksums; sizes match\n"),
            std::string::npos)
      << verified.out;
  EXPECT_NE(verified.out.find("; 0 good, 0 damaged, 3 without checksums\n"), std::string::npos);

  const CommandResult resumed = train("old", " --set train.max_iters=16");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming " + run.string() + " at step 12 of 16"), std::string::npos)
      << resumed.out;
  EXPECT_NE(resumed.out.find("step-00000012): no checksums: its DONE is version 1"),
            std::string::npos)
      << resumed.out;
  // The new checkpoint has checksums; the old ones still have none.
  const CommandResult after = run_loom("verify '" + run.string() + "'");
  EXPECT_EQ(after.exit_code, 7) << after.out;
  EXPECT_NE(after.out.find("  step 16       good "), std::string::npos) << after.out;
}

TEST_F(VerifyCli, AStoreVerifiesAndAFlippedByteNamesItsDataset) {
  const std::string store = dir_.file("tiny.h5");
  const CommandResult good = run_loom("verify '" + store + "'");
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_EQ(good.out.rfind(store + ": token store, 4 datasets with checksums\n", 0), 0U)
      << good.out;
  EXPECT_NE(good.out.find("  /train/tokens        good     "), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("; 4 good, 0 damaged\n"), std::string::npos) << good.out;

  std::uint64_t offset = 0;
  {
    StorePatch patch(store);
    offset = patch.offset_of("/val/tokens");
  }
  const std::string damaged_store = dir_.file("damaged.h5");
  fs::copy_file(store, damaged_store);
  flip_byte(damaged_store, offset + 5);
  const CommandResult damaged = run_loom("verify '" + damaged_store + "'");
  EXPECT_EQ(damaged.exit_code, 6) << damaged.out << damaged.err;
  EXPECT_NE(damaged.out.find("  /val/tokens          damaged  does not match its checksum (crc32 "),
            std::string::npos)
      << damaged.out;
  EXPECT_NE(damaged.out.find("; 3 good, 1 damaged\n"), std::string::npos) << damaged.out;

  // A store written before stores recorded checksums.
  const std::string old_store = dir_.file("old.h5");
  fs::copy_file(store, old_store);
  StorePatch(old_store).delete_attribute("checksums");
  const CommandResult old = run_loom("verify '" + old_store + "'");
  EXPECT_EQ(old.exit_code, 7) << old.out << old.err;
  EXPECT_EQ(old.out, old_store +
                         ": no checksums: written by a Loom before token stores recorded them; "
                         "nothing checked (`loom prepare --force` writes it again with them)\n");

  const CommandResult neither = run_loom("verify '" + dir_.path().string() + "'");
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_EQ(neither.err, "error: " + dir_.path().string() +
                             ": neither a token store (a .h5 file) nor a run directory (it has no "
                             "checkpoints/ folder)\n");
}

}  // namespace
}  // namespace loom
