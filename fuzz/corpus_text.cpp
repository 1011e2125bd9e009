// Plain-text corpora (`loom prepare --format text`): lines, separator lines
// between documents, long lines cut into pieces, .gz/.zst decompression.
#include "corpus_input.hpp"
#include "readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom::fuzz::CorpusInput input = loom::fuzz::corpus_input(data, size);
  const auto path =
      loom::fuzz::temp_dir() / ("corpus.txt" + loom::fuzz::compression_suffix(input.content));
  loom::fuzz::write_file(path, input.content);
  loom::fuzz::expect_loom_errors_only([&] {
    const auto reader = loom::data_tools::open_text_reader(path.string(), input.options);
    loom::fuzz::read_all_records(*reader, input.options);
    loom::fuzz::check(reader->bytes_read() == std::filesystem::file_size(path),
                      "bytes_read() at the end is not the file's size");
  });
  std::filesystem::remove(path);
  return 0;
}
