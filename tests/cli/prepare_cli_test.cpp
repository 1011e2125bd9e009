// `loom prepare`, `loom inspect` and `loom-synth` run as a user runs them.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "data/store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data/token_store.hpp"

namespace loom {
namespace {

using namespace loom::test;

TEST(PrepareCli, PreparesFromFlagsAndReports) {
  TempDir dir;
  write_file(dir.file("a.txt"), "one story\n<|endoftext|>\nanother story\n");
  const auto result = run_loom("prepare --input '" + dir.file("a.txt") + "' --out '" +
                               dir.file("out/a.h5") + "' --progress none");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("prepared " + dir.file("out/a.h5") + ": char tokenizer"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("  split     documents"), std::string::npos) << result.out;
  const data::TokenStoreReader store(dir.file("out/a.h5"));
  // Both stories hash to train, so the tail of train becomes val, and the report says so.
  EXPECT_EQ(store.split(data::Split::train).num_docs, 2u);
  EXPECT_EQ(store.split(data::Split::val).num_docs, 1u);
  EXPECT_NE(result.out.find("note: the corpus has 2 documents and none went to val"),
            std::string::npos)
      << result.out;

  const auto inspect = run_loom("inspect '" + dir.file("out/a.h5") + "' --tokens 5");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("  tokenizer  char, vocabulary "), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("  cleaning   none\n"), std::string::npos) << inspect.out;
}

// The counts beside the filters are shown as recorded, and as "?" when a
// store holds something else there (not an exception out of inspect).
TEST(PrepareCli, InspectShowsTheFilterCountsOrWhatIsMissing) {
  TempDir dir;
  write_file(dir.file("a.txt"), "one story\n<|endoftext|>\nanother story\n");
  const std::string store = dir.file("a.h5");
  ASSERT_EQ(run_loom("prepare -i '" + dir.file("a.txt") + "' -o '" + store + "' --progress none")
                .exit_code,
            0);
  for (const auto& [counts, shown] : std::vector<std::pair<std::string, std::string>>{
           {R"({"records_in":9,"records_out":7})", "kept 7 of 9"},
           {R"("seven")", "kept ? of ?"},
           {R"({"records_in":[9],"records_out":7})", "kept 7 of ?"}}) {
    StorePatch(store).set_string_attribute("filters",
                                           R"({"min_chars":10,"counts":)" + counts + "}");
    const auto inspect = run_loom("inspect '" + store + "'");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_NE(inspect.out.find("  cleaning   min_chars=10; " + shown + " messages/lines\n"),
              std::string::npos)
        << inspect.out;
  }
}

TEST(PrepareCli, RefusesAnExistingStoreWithExitCodeAndMessage) {
  TempDir dir;
  write_file(dir.file("a.txt"), "text\n");
  const std::string args =
      "prepare -i '" + dir.file("a.txt") + "' -o '" + dir.file("a.h5") + "' --progress none";
  ASSERT_EQ(run_loom(args).exit_code, 0);
  const auto again = run_loom(args);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(again.err,
            "error: " + dir.file("a.h5") + " already exists; pass --force to replace it\n");
  EXPECT_EQ(run_loom(args + " --force").exit_code, 0);
}

TEST(PrepareCli, BadInputsAndOptionsExitTwo) {
  TempDir dir;
  const auto missing = run_loom("prepare -i '" + dir.file("none.txt") + "' -o '" +
                                dir.file("x.h5") + "' --progress none");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.txt"), std::string::npos) << missing.err;
  const auto bad_tokenizer = run_loom("prepare -i x -o y.h5 --tokenizer words");
  EXPECT_EQ(bad_tokenizer.exit_code, 2);
  EXPECT_EQ(bad_tokenizer.err,
            "error: --set prepare.tokenizer=words: prepare.tokenizer: got 'words', expected one of "
            "char | byte | bpe | unigram\n");
  const auto no_out = run_loom("prepare -i x");
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_NE(no_out.err.find("missing required key 'data.store'"), std::string::npos) << no_out.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
}

TEST(PrepareCli, InspectRejectsWhatIsNotAStore) {
  TempDir dir;
  write_file(dir.file("notes.h5"), "not hdf5 at all");
  const auto result = run_loom("inspect '" + dir.file("notes.h5") + "'");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find(dir.file("notes.h5")), std::string::npos) << result.err;
}

TEST(SynthCli, SameSeedSameBytesAndADiscordPackagePrepares) {
  TempDir dir;
  ASSERT_EQ(run_synth("stories --size 200KB --seed 7 --out '" + dir.file("a.txt") + "'").exit_code,
            0);
  ASSERT_EQ(run_synth("stories --size 200KB --seed 7 --out '" + dir.file("b.txt") + "'").exit_code,
            0);
  EXPECT_EQ(read_file(dir.file("a.txt")), read_file(dir.file("b.txt")));
  EXPECT_GE(std::filesystem::file_size(dir.file("a.txt")), 200000u);

  ASSERT_EQ(
      run_synth("discord --size 300KB --channels 6 --out '" + dir.file("pkg") + "'").exit_code, 0);
  const auto result = run_loom("prepare -i '" + dir.file("pkg") + "' -o '" + dir.file("d.h5") +
                               "' --set prepare.val_fraction=0.5 --progress none");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const data::TokenStoreReader store(dir.file("d.h5"));
  // One document per channel.
  EXPECT_EQ(store.split(data::Split::train).num_docs + store.split(data::Split::val).num_docs, 6u);
}

}  // namespace
}  // namespace loom

namespace loom {
namespace {

TEST(PlotCli, DrawsOneRunIntoItsFolderAndSeveralIntoTheGivenFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("gpt"));
  std::filesystem::create_directories(dir.file("lstm"));
  write_file(dir.file("gpt/metrics.jsonl"),
             "{\"step\":0,\"loss\":4.2}\n{\"step\":10,\"loss\":2.0,\"val_loss\":2.1}\n");
  write_file(dir.file("lstm/metrics.jsonl"), "{\"step\":0,\"loss\":4.2}\n");
  const auto one = run_loom("plot '" + dir.file("gpt") + "'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "wrote " + dir.file("gpt") + "/loss.svg\n");
  EXPECT_NE(read_file(dir.file("gpt/loss.svg")).find(">gpt val</text>"), std::string::npos);
  const auto both = run_loom("plot '" + dir.file("gpt") + "' '" + dir.file("lstm") + "' --out '" +
                             dir.file("cmp.svg") + "'");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(read_file(dir.file("cmp.svg")).find(">gpt vs lstm</text>"), std::string::npos);
  const auto missing = run_loom("plot '" + dir.file("nothing") + "'");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "error: " + dir.file("nothing") +
                ": no metrics.jsonl there; give a run directory or its metrics file\n");
}

}  // namespace
}  // namespace loom
