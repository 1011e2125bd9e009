// A store written by Loom reads the same in h5py: tokens, document offsets
// and attributes exactly, stored contiguous and uncompressed. The check runs
// tests/data/store_h5py_check.py with the first python3 that has h5py and
// numpy, and is skipped when there is none.
#include <cstdio>
#include <string>
#include <vector>

#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandRun run(const std::string& command) {
  CommandRun result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    result.output.append(buffer, got);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The first interpreter that imports h5py and numpy; empty when none does.
// PATH's python3 comes first; Debian's own is where python3-h5py installs.
std::string python_with_h5py() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    if (run(std::string(python) + " -c 'import h5py, numpy'").exit_code == 0) return python;
  }
  return "";
}

TEST(TokenStoreH5py, ReadsWhatTheWriterWrote) {
  const std::string python = python_with_h5py();
  if (python.empty()) GTEST_SKIP() << "no python3 with h5py and numpy";

  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  const std::vector<text::TokenId> train = token_pattern(70'000, 1000, 1);
  const std::vector<text::TokenId> val = {999, 0, 4};
  const StoreMetadata metadata = full_metadata(1000);
  write_store(path, 1000,
              {{Split::train, {train.begin(), train.begin() + 50'000}},
               {Split::train, {train.begin() + 50'000, train.end()}},
               {Split::val, val}},
              metadata);

  nlohmann::json sources = nlohmann::json::array();
  for (const SourceFile& source : metadata.sources) {
    sources.push_back({{"name", source.name}, {"bytes", source.bytes}, {"crc32", source.crc32}});
  }
  const nlohmann::json expected = {
      {"dtype", "uint16"},
      {"format_version", 1},
      {"vocab_size", 1000},
      {"splits",
       {{"train", {{"tokens", train}, {"doc_offsets", {0, 50'000}}}},
        {"val", {{"tokens", val}, {"doc_offsets", {0}}}}}},
      {"strings",
       {{"dtype", "uint16"},
        {"tokenizer", metadata.tokenizer_json},
        {"filters", metadata.filters_json},
        {"report", metadata.report_json},
        {"created", metadata.created}}},
      {"sources", sources},
  };
  const std::string expected_path = write_file(dir.file("expected.json"), expected.dump());

  const CommandRun check = run(python + " '" LOOM_SOURCE_DIR "/tests/data/store_h5py_check.py' '" +
                               path + "' '" + expected_path + "'");
  EXPECT_EQ(check.output, "ok\n");
  EXPECT_EQ(check.exit_code, 0);
}

}  // namespace
}  // namespace loom::data
