// Telegram Desktop exports (`--format telegram`): result.json of one chat
// or of a whole account, walked by the streaming JSON cursor. Also checks
// the format sniffing resolve_inputs does on .json files.
#include "corpus_input.hpp"
#include "readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom::fuzz::CorpusInput input = loom::fuzz::corpus_input(data, size);
  const auto path =
      loom::fuzz::temp_dir() / ("result.json" + loom::fuzz::compression_suffix(input.content));
  loom::fuzz::write_file(path, input.content);
  loom::fuzz::expect_loom_errors_only([&] {
    // Sniffing never throws: anything but such JSON is simply not Telegram's.
    loom::data_tools::has_telegram_members(path.string());
  });
  loom::fuzz::expect_loom_errors_only([&] {
    const auto reader = loom::data_tools::open_telegram_reader(path.string(), input.options);
    loom::fuzz::read_all_records(*reader, input.options);
  });
  std::filesystem::remove(path);
  return 0;
}
