// A checkpoint's DONE manifest, as resume reads it: the input is DONE in a
// checkpoint folder of step 500 with two payload files, and why_incomplete
// (which parses it with parse_manifest and compares it to the folder) must
// answer with a reason or "" (complete), never throw, whatever DONE holds.
// DONE is read back from disk, so it is outside input like any other file.
#include "checkpoint_manifest.hpp"

#include <string>

#include "fuzz_support.hpp"
#include <nlohmann/json.hpp>

namespace {

constexpr std::int64_t kStep = 500;

// step-00000500/ with model.pt (16 bytes) and nested/extra.bin (3 bytes).
const std::filesystem::path& checkpoint() {
  static const std::filesystem::path folder = [] {
    const std::filesystem::path made = loom::fuzz::temp_dir() / "step-00000500";
    std::filesystem::create_directories(made / "nested");
    loom::fuzz::write_file(made / "model.pt", "0123456789abcdef");
    loom::fuzz::write_file(made / "nested" / "extra.bin", "abc");
    return made;
  }();
  return folder;
}

// A DONE judged complete must be the marker of step 500 whose every file
// lies inside the folder (no absolute path, no "..") with its size there:
// resume trusts such a folder without looking further.
void check_complete(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json done = nlohmann::json::parse(data, data + size, nullptr, false);
  loom::fuzz::check(done.is_object() && done.value("step", nlohmann::json()) == kStep,
                    "a DONE that is not step 500's marker passed as complete");
  for (const nlohmann::json& file : done.at("files")) {
    const std::filesystem::path path(file.at("path").get<std::string>());
    loom::fuzz::check(path.is_relative(), "a DONE listing an absolute path passed as complete");
    for (const std::filesystem::path& part : path) {
      loom::fuzz::check(part != "..", "a DONE listing a path with '..' passed as complete");
    }
    std::error_code error;
    const std::uintmax_t bytes = std::filesystem::file_size(checkpoint() / path, error);
    loom::fuzz::check(!error && file.at("bytes") == bytes,
                      "a DONE passed as complete with a file missing or of another size");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using loom::run_dir::checkpoint_detail::kManifestName;
  loom::fuzz::write_file(checkpoint() / kManifestName, data, size);
  std::string why;
  loom::fuzz::expect_loom_errors_only(
      [&] { why = loom::run_dir::checkpoint_detail::why_incomplete(checkpoint(), kStep); });
  if (why.empty()) check_complete(data, size);
  return 0;
}
