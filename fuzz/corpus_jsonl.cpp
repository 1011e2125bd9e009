// JSON Lines corpora (`--format jsonl`): one object per line, the text in
// its "text" field; malformed lines must be CorpusErrors naming the line.
#include "corpus_input.hpp"
#include "readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom::fuzz::CorpusInput input = loom::fuzz::corpus_input(data, size);
  const auto path =
      loom::fuzz::temp_dir() / ("corpus.jsonl" + loom::fuzz::compression_suffix(input.content));
  loom::fuzz::write_file(path, input.content);
  loom::fuzz::expect_loom_errors_only([&] {
    const auto reader = loom::data_tools::open_jsonl_reader(path.string(), input.options);
    loom::fuzz::read_all_records(*reader, input.options);
  });
  std::filesystem::remove(path);
  return 0;
}
