// Discord data packages (`--format discord`), one channel's
// messages file, LOOM_FUZZ_DISCORD_MESSAGES, one target for each name:
// messages.json (newer packages: an array of {"ID", "Timestamp",
// "Contents", "Attachments"} objects, IDs as numbers or strings of digits)
// and messages.csv (older packages: RFC 4180 rows under an "ID,Timestamp,
// Contents,Attachments" header, quoted fields with commas, newlines, "").
// The package is read through open_discord_reader, the public entry
// point, so the target keeps working as the layouts it recognises grow.
#include "corpus_input.hpp"
#include "readers.hpp"

namespace {

// A package with one channel, whose messages file each input replaces.
const std::filesystem::path& package() {
  static const std::filesystem::path folder = [] {
    const std::filesystem::path made = loom::fuzz::temp_dir() / "package";
    std::filesystem::create_directories(made / "Messages" / "c123456789");
    std::filesystem::create_directories(made / "account");
    loom::fuzz::write_file(made / "account" / "user.json",
                           R"({"id": "1", "username": "fuzzer", "global_name": "Fuzz"})");
    return made;
  }();
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const loom::fuzz::CorpusInput input = loom::fuzz::corpus_input(data, size);
  const auto path = package() / "Messages" / "c123456789" / LOOM_FUZZ_DISCORD_MESSAGES;
  loom::fuzz::write_file(path, input.content);
  loom::fuzz::expect_loom_errors_only([&] {
    const auto reader = loom::data_tools::open_discord_reader(package().string(), input.options);
    loom::fuzz::read_all_records(*reader, input.options);
  });
  return 0;
}
