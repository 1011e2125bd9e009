// What every fuzz target shares: the rule that only Loom's own exception
// types may leave a parser, checks that abort (so libFuzzer reports them
// with the input), and a private temporary folder for the parsers that read
// files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace loom::fuzz {

// Runs one input through `parse`. A loom::Error (UsageError, CorpusError,
// StoreError, ...) is the parser refusing the input properly and ends the
// run quietly; any other exception escaping (std::out_of_range, nlohmann's,
// YAML::Exception, ...) is a bug: it is printed and the process aborts.
void expect_loom_errors_only(const std::function<void()>& parse);

// Aborts with `what` when `condition` is false: a property the parser
// promises but broke on this input.
void check(bool condition, std::string_view what);

// A folder for this process alone, made on first use and removed at exit.
// libFuzzer's -fork and -jobs run targets as separate processes, so each
// one gets its own.
const std::filesystem::path& temp_dir();

// Writes `size` bytes to `path`, replacing it; aborts when it cannot (a full
// disk is not the parser's fault, and the run would mean nothing).
void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size);
void write_file(const std::filesystem::path& path, std::string_view text);

}  // namespace loom::fuzz

// The entry point libFuzzer calls, and the replay driver in normal builds.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
