// From command-line paths to inputs: folders walked in path order without
// hidden files or token stores, globs, format guessing by name and content,
// exports as single inputs, forced formats, inputs reached twice listed
// once, excluded outputs, and the errors (exit code 2) for paths matching
// nothing.
#include <filesystem>
#include <string>
#include <vector>

#include "corpus_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

// "relative/path format" per input, paths relative to `root`.
std::vector<std::string> describe(const std::vector<InputFile>& inputs, const fs::path& root) {
  std::vector<std::string> described;
  for (const InputFile& input : inputs) {
    described.push_back(fs::path(input.path).lexically_relative(root).generic_string() + " " +
                        input_format_name(input.format));
  }
  return described;
}

using Described = std::vector<std::string>;

TEST(ResolveInputs, FolderIsWalkedInPathOrderSkippingHiddenFiles) {
  TempDir dir;
  const fs::path corpus = dir.path() / "corpus";
  fs::create_directories(corpus / "b" / "deeper");
  fs::create_directories(corpus / ".cache");
  write_file((corpus / "b" / "deeper" / "z.txt").string(), "z");
  write_file((corpus / "b" / "a.txt").string(), "a");
  write_file((corpus / "a.txt").string(), "1");
  write_file((corpus / "c.jsonl").string(), "{}");
  write_file((corpus / ".hidden.txt").string(), "h");
  write_file((corpus / ".cache" / "x.txt").string(), "x");
  const std::vector<InputFile> inputs = resolve_inputs({corpus.string()}, "auto");
  EXPECT_EQ(describe(inputs, corpus),
            (Described{"a.txt text", "b/a.txt text", "b/deeper/z.txt text", "c.jsonl jsonl"}));
  EXPECT_EQ(inputs[0].bytes, 1u);
}

TEST(ResolveInputs, LinkedFoldersAreWalkedOnce) {
  TempDir dir;
  const fs::path corpus = dir.path() / "corpus";
  fs::create_directories(corpus / "sub");
  write_file((corpus / "sub" / "a.txt").string(), "a");
  fs::create_directory_symlink("..", corpus / "sub" / "up");
  fs::create_directory_symlink(corpus / "sub", dir.path() / "linked");
  EXPECT_EQ(describe(resolve_inputs({corpus.string()}, "auto"), corpus),
            (Described{"sub/a.txt text"}));
  EXPECT_EQ(describe(resolve_inputs({(dir.path() / "linked").string()}, "auto"), dir.path()),
            (Described{"linked/a.txt text"}));
}

TEST(ResolveInputs, GlobsMatchInByteOrderAndArgumentsKeepTheirOrder) {
  TempDir dir;
  for (const char* name : {"b.txt", "a.txt", "B.txt", "notes.md"}) {
    write_file(dir.file(name), name);
  }
  EXPECT_EQ(describe(resolve_inputs({dir.file("notes.md"), dir.file("*.txt")}, "auto"), dir.path()),
            (Described{"notes.md text", "B.txt text", "a.txt text", "b.txt text"}));
  EXPECT_EQ(describe(resolve_inputs({dir.file("[ab].txt")}, "jsonl"), dir.path()),
            (Described{"a.txt jsonl", "b.txt jsonl"}));
}

TEST(ResolveInputs, FormatsAreGuessedFromNamesAndTelegramContent) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "");
  write_gzip(dir.file("b.JSONL.gz"), {""});
  write_zstd(dir.file("c.jsonl.zst"), {""});
  write_file(dir.file("d.json"), R"({"about": {"list": [1, {"x": "}"}]}, "chats": {}})");
  write_file(dir.file("e.json"), R"({"name": "chat", "messages": []})");
  write_file(dir.file("f.json"), R"({"name": "not an export"})");
  write_file(dir.file("g.json"), "[1, 2]");
  write_file(dir.file("h.json"), "{broken");
  write_gzip(dir.file("result.json.gz"), {"{}"});
  write_file(dir.file("i.txt.gz"), "");
  EXPECT_EQ(describe(resolve_inputs({dir.path().string()}, "auto"), dir.path()),
            (Described{"a.jsonl jsonl", "b.JSONL.gz jsonl", "c.jsonl.zst jsonl", "d.json telegram",
                       "e.json telegram", "f.json text", "g.json text", "h.json text",
                       "i.txt.gz text", "result.json.gz telegram"}));
}

TEST(ResolveInputs, ExportFoldersAreSingleInputsEvenInsideAFolder) {
  TempDir dir;
  const fs::path root = dir.path();
  fs::create_directories(root / "discord" / "messages" / "c1");
  write_file((root / "discord" / "messages" / "c1" / "messages.csv").string(),
             "ID,Timestamp,Contents,Attachments\n");
  write_file((root / "discord" / "README.txt").string(), "not corpus");
  fs::create_directories(root / "telegram" / "photos");
  write_file((root / "telegram" / "result.json").string(), "{}");
  write_file((root / "telegram" / "photos" / "p.jpg").string(), "jpeg");
  write_file((root / "notes.txt").string(), "n");
  EXPECT_EQ(describe(resolve_inputs({root.string()}, "auto"), root),
            (Described{"discord discord", "notes.txt text", "telegram/result.json telegram"}));
  EXPECT_EQ(describe(resolve_inputs({(root / "telegram").string()}, "auto"), root),
            (Described{"telegram/result.json telegram"}));
  // Forced, a format applies to every file and exports are not looked for.
  EXPECT_EQ(describe(resolve_inputs({(root / "telegram").string()}, "text"), root),
            (Described{"telegram/photos/p.jpg text", "telegram/result.json text"}));
  EXPECT_EQ(describe(resolve_inputs({root.string()}, "discord"), root),
            (Described{"discord discord"}));
}

TEST(ResolveInputs, PathsMatchingNothingAreErrors) {
  TempDir dir;
  const std::string missing = dir.file("missing.txt");
  const std::string pattern = dir.file("*.nothing");
  fs::create_directories(dir.path() / "empty");
  write_file(dir.file("empty/.hidden"), "h");
  write_file(dir.file("a.txt"), "a");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({missing}, "auto"); }),
            "input '" + missing + "': no such file, folder or glob match");
  EXPECT_EQ(corpus_error_of([&] {
              resolve_inputs({dir.file("a.txt"), pattern}, "auto");
            }),
            "input '" + pattern + "': no such file, folder or glob match");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({dir.file("empty")}, "auto"); }),
            "input '" + dir.file("empty") +
                "': no files in it (hidden files, .h5 token stores and this run's outputs are "
                "skipped)");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({dir.file("a.txt")}, "discord"); }),
            "input '" + dir.file("a.txt") + "': '" + dir.file("a.txt") +
                "' is a file; a Discord data package is the folder holding Messages (or that "
                "folder, or one channel folder in it)");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({dir.path().string()}, "discord"); }),
            "input '" + dir.path().string() +
                "': no Discord data package (a folder with Messages), messages folder or "
                "channel folder in it");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({dir.file("a.txt")}, "csv"); }),
            "unknown input format 'csv'; expected auto, text, jsonl, discord or telegram");
}

TEST(ResolveInputs, ResolutionErrorsAreUsageErrors) {
  TempDir dir;
  fs::create_directories(dir.path() / "empty");
  const std::string kind = "InputResolutionError, exit 2";
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({dir.file("missing.txt")}, "auto"); }), kind);
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({dir.file("*.nothing")}, "auto"); }), kind);
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({dir.file("empty")}, "auto"); }), kind);
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({dir.path().string()}, "discord"); }), kind);
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({dir.path().string()}, "csv"); }), kind);
}

TEST(ResolveInputs, FolderWalksSkipTokenStoresButNamedOrMatchedOnesAreRead) {
  TempDir dir;
  for (const char* name : {"a.txt", "old.h5", "OLD.H5", "old.h5.tmp", "old.h5.train.tmp",
                           "old.H5.val.docs.TMP", "h5.tmp", "notes.h5.txt", "x.tmp"}) {
    write_file(dir.file(name), name);
  }
  EXPECT_EQ(describe(resolve_inputs({dir.path().string()}, "auto"), dir.path()),
            (Described{"a.txt text", "h5.tmp text", "notes.h5.txt text", "x.tmp text"}));
  EXPECT_EQ(
      describe(resolve_inputs({dir.file("old.h5"), dir.file("old.h5.tmp")}, "auto"), dir.path()),
      (Described{"old.h5 text", "old.h5.tmp text"}));
  EXPECT_EQ(describe(resolve_inputs({dir.file("*.[hH]5")}, "auto"), dir.path()),
            (Described{"OLD.H5 text", "old.h5 text"}));
}

TEST(ResolveInputs, AnInputReachedTwiceIsListedOnceWhereFirstReached) {
  TempDir dir;
  const fs::path corpus = dir.path() / "corpus";
  fs::create_directories(corpus / "sub");
  write_file((corpus / "a.txt").string(), "alpha\n");
  write_file((corpus / "b.txt").string(), "beta\n");
  write_file((corpus / "sub" / "c.txt").string(), "gamma\n");
  fs::create_symlink(corpus / "a.txt", dir.path() / "link.txt");
  const std::string folder = corpus.string();
  const std::string a = (corpus / "a.txt").string();
  const std::string b = (corpus / "b.txt").string();
  // The folder first: a file named again, through a link or with "..",
  // adds nothing.
  EXPECT_EQ(describe(resolve_inputs({folder, a, dir.file("link.txt"),
                                     (corpus / "sub" / ".." / "b.txt").string()},
                                    "auto"),
                     dir.path()),
            (Described{"corpus/a.txt text", "corpus/b.txt text", "corpus/sub/c.txt text"}));
  // A file first keeps its place; the folder and a glob then add the rest.
  EXPECT_EQ(describe(resolve_inputs({b, folder, dir.file("corpus/*.txt")}, "auto"), dir.path()),
            (Described{"corpus/b.txt text", "corpus/a.txt text", "corpus/sub/c.txt text"}));
  // Naming one file twice is no error.
  EXPECT_EQ(describe(resolve_inputs({dir.file("link.txt"), a}, "auto"), dir.path()),
            (Described{"link.txt text"}));
  EXPECT_EQ(read_inputs({folder, a}), (Lines{"# alpha", "# beta", "# gamma"}));
}

TEST(ResolveInputs, ExcludedOutputsAreLeftOutWhereverTheyAreMet) {
  TempDir dir;
  const fs::path corpus = dir.path() / "corpus";
  fs::create_directories(corpus / "out");
  fs::create_directories(dir.path() / "only-output");
  write_file((corpus / "a.txt").string(), "a");
  write_file((corpus / "out" / "store").string(), "an old store");
  write_file((corpus / "out" / "store.train.tmp").string(), "a killed run's tokens");
  write_file((corpus / "out" / "storehouse.txt").string(), "corpus");
  write_file(dir.file("only-output/store"), "another store");
  // Spelled through a link to the folder the walk reaches by its own name.
  fs::create_directory_symlink(corpus / "out", dir.path() / "out-link");
  ExcludedPaths excluded;
  excluded.files = {dir.file("out-link/store"), dir.file("only-output/store"),
                    dir.file("not-yet/written.h5")};
  excluded.prefixes = {dir.file("out-link/store.")};
  EXPECT_EQ(describe(resolve_inputs({corpus.string()}, "auto", excluded), dir.path()),
            (Described{"corpus/a.txt text", "corpus/out/storehouse.txt text"}));
  EXPECT_EQ(describe(resolve_inputs({dir.file("corpus/out/*")}, "auto", excluded), dir.path()),
            (Described{"corpus/out/storehouse.txt text"}));
  // Without exclusions the same folder gives all its files.
  EXPECT_EQ(resolve_inputs({corpus.string()}, "auto").size(), 4u);
  // An output named as an input is a mistake, not something to skip.
  const std::string store = (corpus / "out" / "store").string();
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({store}, "auto", excluded); }),
            "input '" + store + "': this run writes it; an output is never read as corpus");
  EXPECT_EQ(corpus_error_kind([&] { resolve_inputs({store}, "auto", excluded); }),
            "InputResolutionError, exit 2");
  EXPECT_EQ(corpus_error_of([&] { resolve_inputs({dir.file("only-output")}, "auto", excluded); }),
            "input '" + dir.file("only-output") +
                "': no files in it (hidden files, .h5 token stores and this run's outputs are "
                "skipped)");
}

}  // namespace
}  // namespace loom::data_tools
