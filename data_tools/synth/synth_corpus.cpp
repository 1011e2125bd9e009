// loom-synth: deterministic synthetic corpora of any size, for scale tests
// and benchmarks of `loom prepare`.
//
//   loom-synth stories --size 2GB --out corpus.txt [--seed 1]
//       TinyStories-shaped: short stories of simple sentences, each followed
//       by an <|endoftext|> line; a little non-ASCII text (names with
//       accents, an emoji now and then) keeps the UTF-8 paths honest.
//   loom-synth discord --size 50MB --out package/ [--seed 1] [--channels 20]
//       A Discord data package: account/user.json, Messages/index.json and
//       one Messages/c<id>/ folder per channel, every third channel in the
//       older messages.csv form and the rest as messages.json, newest first
//       as Discord writes them.
//
// The same arguments always give the same bytes. Exit codes follow `loom`
// (core/exit_codes.hpp): 2 for a bad command line, 1 for a write failure.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

constexpr int kExitFailure = 1;  // ExitCode::kFailure
constexpr int kExitUsage = 2;    // ExitCode::kUsage

// A command-line value that cannot be used; exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file or folder that could not be written; exit code 1.
class WriteError : public std::runtime_error {
 public:
  WriteError(const fs::path& path, const std::string& reason)
      : std::runtime_error(fmt::format("cannot write {}: {}", path.string(), reason)) {}
};

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[next() % items.size()];
  }
  bool chance(unsigned percent) { return next() % 100 < percent; }

 private:
  std::uint64_t state_;
};

const std::vector<std::string> kNames = {"Lily", "Tom", "Mia",  "Ben",  "Zoë", "Chloé",
                                         "Sam",  "Max", "Anna", "José", "Leo", "Ruby"};
const std::vector<std::string> kThings = {"ball", "dog",   "cat",  "tree", "box",    "kite",
                                          "cake", "bird",  "boat", "hat",  "garden", "park",
                                          "toy",  "apple", "moon", "star", "river",  "house"};
const std::vector<std::string> kAdjectives = {"big",   "small", "red",   "happy", "sad",
                                              "shiny", "old",   "funny", "quiet", "bright"};
const std::vector<std::string> kVerbs = {"saw",         "found", "liked",  "wanted",  "made",
                                         "played with", "lost",  "shared", "painted", "hugged"};
const std::vector<std::string> kEndings = {".", ".", ".", "!", "?"};

std::string sentence(Random& random) {
  std::string text =
      fmt::format("{} {} a {} {}{}", random.pick(kNames), random.pick(kVerbs),
                  random.pick(kAdjectives), random.pick(kThings), random.pick(kEndings));
  if (random.chance(3)) text += " 🌟";
  return text;
}

// "500MB", "2GiB", "1.5GB", "4096": decimal (K, M, G) or binary (KiB, MiB,
// GiB) units, a bare number being bytes.
std::uint64_t parse_size(const std::string& text) {
  const auto complain = [&](const std::string& problem) {
    return UsageError(
        fmt::format("--size '{}': {}; expected a number >= 0 and a unit, B, K/KB, "
                    "M/MB, G/GB, KiB, MiB or GiB (none = bytes), e.g. 500MB",
                    text, problem));
  };
  double number = 0;
  const auto [number_end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error == std::errc::result_out_of_range) throw complain("out of range");
  if (error != std::errc() || !std::isfinite(number)) throw complain("not a number");
  if (number < 0) throw complain("a size cannot be negative");
  std::string unit(number_end, text.data() + text.size());
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  if (unit == "K" || unit == "KB") scale = 1e3;
  if (unit == "M" || unit == "MB") scale = 1e6;
  if (unit == "G" || unit == "GB") scale = 1e9;
  if (unit == "KIB") scale = 1024.0;
  if (unit == "MIB") scale = 1024.0 * 1024;
  if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
  if (scale == 0) throw complain(fmt::format("unknown unit '{}'", unit));
  const double bytes = number * scale;
  // 2^64: the first value a uint64 cannot hold.
  if (bytes >= 18446744073709551616.0) throw complain("too large");
  return static_cast<std::uint64_t>(bytes);
}

// errno as text, read right after the failing call.
std::string last_error() {
  return std::strerror(errno);
}

void create_folder(const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) throw WriteError(folder, error.message());
}

// An output file whose every failure throws a WriteError naming it.
class OutputFile {
 public:
  explicit OutputFile(fs::path path) : path_(std::move(path)), file_(path_, std::ios::binary) {
    if (!file_) throw WriteError(path_, last_error());
  }
  void write(const std::string& bytes) {
    if (!file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
      throw WriteError(path_, last_error());
    }
  }
  // A full disk often shows only here, when the last buffer is flushed.
  void close() {
    file_.close();
    if (!file_) throw WriteError(path_, last_error());
  }

 private:
  fs::path path_;
  std::ofstream file_;
};

void write_whole_file(const fs::path& path, const std::string& text) {
  OutputFile file(path);
  file.write(text);
  file.close();
}

void write_stories(const std::string& out, std::uint64_t size, std::uint64_t seed) {
  OutputFile file(out);
  Random random(seed);
  std::string buffer;
  std::uint64_t written = 0;
  while (written < size) {
    buffer.clear();
    while (buffer.size() < (1 << 20)) {
      const unsigned sentences = 3 + random.next() % 8;
      for (unsigned i = 0; i < sentences; ++i) {
        buffer += sentence(random);
        buffer += (i + 1 == sentences || random.chance(70)) ? "\n" : " ";
      }
      buffer += "<|endoftext|>\n";
    }
    file.write(buffer);
    written += buffer.size();
  }
  file.close();
}

std::string csv_field(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_discord(const std::string& out, std::uint64_t size, std::uint64_t seed, int channels) {
  Random random(seed);
  create_folder(fs::path(out) / "account");
  write_whole_file(fs::path(out) / "account" / "user.json",
                   nlohmann::json{{"id", "1000"}, {"username", "synth_user"}}.dump(2));
  nlohmann::json index = nlohmann::json::object();
  const std::uint64_t per_channel = size / static_cast<std::uint64_t>(channels) + 1;
  for (int c = 0; c < channels; ++c) {
    const std::string id = std::to_string(800000000000000000ULL + static_cast<unsigned>(c) * 7919);
    index[id] = fmt::format("channel-{}", c);
    const fs::path folder = fs::path(out) / "Messages" / ("c" + id);
    create_folder(folder);
    write_whole_file(folder / "channel.json",
                     nlohmann::json{{"id", id}, {"type", 0}, {"name", index[id]}}.dump());
    std::vector<nlohmann::json> messages;
    std::uint64_t bytes = 0;
    for (std::uint64_t m = 0; bytes < per_channel; ++m) {
      std::string contents = sentence(random);
      if (random.chance(10)) contents += " https://example.com/" + std::to_string(m);
      if (random.chance(5)) contents += "\nsecond line";
      if (random.chance(4)) contents = "lol";
      bytes += contents.size() + 40;
      messages.push_back({{"ID", std::to_string(900000000000000000ULL + m)},
                          {"Timestamp", fmt::format("2024-01-01 00:{:02}:{:02}.000000+00:00",
                                                    (m / 60) % 60, m % 60)},
                          {"Contents", contents},
                          {"Attachments", ""}});
    }
    std::reverse(messages.begin(), messages.end());  // Discord lists newest first
    if (c % 3 == 2) {
      std::string csv = "ID,Timestamp,Contents,Attachments\n";
      for (const nlohmann::json& m : messages) {
        csv += m["ID"].get<std::string>() + ',' + m["Timestamp"].get<std::string>() + ',' +
               csv_field(m["Contents"].get<std::string>()) + ",\n";
      }
      write_whole_file(folder / "messages.csv", csv);
    } else {
      write_whole_file(folder / "messages.json", nlohmann::json(messages).dump());
    }
  }
  write_whole_file(fs::path(out) / "Messages" / "index.json", index.dump(2));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loom-synth: deterministic synthetic corpora for scale tests"};
  app.require_subcommand(1);
  std::string size_text = "10MB";
  std::string out;
  std::uint64_t seed = 1;
  int channels = 20;
  CLI::App* stories = app.add_subcommand("stories", "TinyStories-shaped text with separators");
  CLI::App* discord = app.add_subcommand("discord", "a Discord data package tree");
  for (CLI::App* command : {stories, discord}) {
    command->add_option("--size", size_text, "approximate size, e.g. 500MB, 2GB");
    command->add_option("--out", out, "file (stories) or folder (discord) to write")->required();
    command->add_option("--seed", seed, "seed; the same seed gives the same bytes");
  }
  discord->add_option("--channels", channels, "channels (documents)")->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help arrives here too, with exit code 0.
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  try {
    const std::uint64_t size = parse_size(size_text);
    if (stories->parsed()) write_stories(out, size, seed);
    if (discord->parsed()) write_discord(out, size, seed, channels);
  } catch (const UsageError& e) {
    std::cerr << "loom-synth: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "loom-synth: " << e.what() << "\n";
    return kExitFailure;
  }
  return 0;
}
