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
// The same arguments always give the same bytes.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

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

std::uint64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  const double number = std::stod(text, &used);
  std::string unit = text.substr(used);
  for (char& c : unit)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1;
  if (unit == "K" || unit == "KB") scale = 1e3;
  if (unit == "M" || unit == "MB") scale = 1e6;
  if (unit == "G" || unit == "GB") scale = 1e9;
  if (unit == "KIB") scale = 1024.0;
  if (unit == "MIB") scale = 1024.0 * 1024;
  if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
  if (!unit.empty() && scale == 1 && unit != "B") {
    throw CLI::ValidationError("--size",
                               "unknown unit '" + unit + "' (use B, KB, MB, GB, MiB, GiB)");
  }
  return static_cast<std::uint64_t>(number * scale);
}

void write_stories(const std::string& out, std::uint64_t size, std::uint64_t seed) {
  std::ofstream file(out, std::ios::binary);
  if (!file) throw std::runtime_error("cannot write " + out);
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
    file.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    written += buffer.size();
  }
}

std::string csv_field(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_discord(const std::string& out, std::uint64_t size, std::uint64_t seed, int channels) {
  Random random(seed);
  fs::create_directories(fs::path(out) / "account");
  std::ofstream(fs::path(out) / "account" / "user.json")
      << nlohmann::json{{"id", "1000"}, {"username", "synth_user"}}.dump(2);
  nlohmann::json index = nlohmann::json::object();
  const std::uint64_t per_channel = size / static_cast<std::uint64_t>(channels) + 1;
  for (int c = 0; c < channels; ++c) {
    const std::string id = std::to_string(800000000000000000ULL + static_cast<unsigned>(c) * 7919);
    index[id] = fmt::format("channel-{}", c);
    const fs::path folder = fs::path(out) / "Messages" / ("c" + id);
    fs::create_directories(folder);
    std::ofstream(folder / "channel.json")
        << nlohmann::json{{"id", id}, {"type", 0}, {"name", index[id]}}.dump();
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
      std::ofstream csv(folder / "messages.csv", std::ios::binary);
      csv << "ID,Timestamp,Contents,Attachments\n";
      for (const nlohmann::json& m : messages) {
        csv << m["ID"].get<std::string>() << ',' << m["Timestamp"].get<std::string>() << ','
            << csv_field(m["Contents"].get<std::string>()) << ",\n";
      }
    } else {
      std::ofstream(folder / "messages.json") << nlohmann::json(messages).dump();
    }
  }
  std::ofstream(fs::path(out) / "Messages" / "index.json") << index.dump(2);
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
  CLI11_PARSE(app, argc, argv);
  try {
    const std::uint64_t size = parse_size(size_text);
    if (stories->parsed()) write_stories(out, size, seed);
    if (discord->parsed()) write_discord(out, size, seed, channels);
  } catch (const std::exception& e) {
    std::cerr << "loom-synth: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
