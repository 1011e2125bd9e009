// Finding a Discord package's channels and owner; see discord_package.hpp.
#include "discord_package.hpp"

#include <algorithm>
#include <charconv>

#include "input_stream.hpp"
#include "json_errors.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {
namespace fs = std::filesystem;
namespace {

// The first of `names` that is a subfolder (or file, with want_file) of `folder`.
std::optional<fs::path> first_existing(const fs::path& folder,
                                       std::initializer_list<const char*> names, bool want_file) {
  for (const char* name : names) {
    std::error_code error;
    const fs::path candidate = folder / name;
    const bool found =
        want_file ? fs::is_regular_file(candidate, error) : fs::is_directory(candidate, error);
    if (found) return candidate;
  }
  return std::nullopt;
}

// The id in a channel folder's name "c<digits>".
std::optional<std::uint64_t> channel_id(const std::string& name) {
  if (name.size() < 2 || name[0] != 'c') return std::nullopt;
  std::uint64_t id = 0;
  const char* end = name.data() + name.size();
  const auto [stop, error] = std::from_chars(name.data() + 1, end, id);
  if (error != std::errc() || stop != end) return std::nullopt;
  return id;
}

}  // namespace

std::optional<fs::path> discord_messages_folder(const fs::path& folder) {
  return first_existing(folder, {"Messages", "messages"}, /*want_file=*/false);
}

std::vector<DiscordChannel> discord_channels(const fs::path& messages_folder) {
  std::error_code list_error;
  fs::directory_iterator listing(messages_folder, list_error);
  if (list_error) {
    throw CorpusError(fmt::format("cannot list Discord channels in '{}': {}",
                                  messages_folder.string(), list_error.message()));
  }
  std::vector<DiscordChannel> channels;
  for (const fs::directory_entry& entry : listing) {
    std::error_code ignored;  // an entry that vanished is no channel
    const std::optional<std::uint64_t> id = channel_id(entry.path().filename().string());
    if (!id || !entry.is_directory(ignored)) continue;
    const std::optional<fs::path> file =
        first_existing(entry.path(), {"messages.json", "messages.csv"}, /*want_file=*/true);
    if (!file) continue;
    channels.push_back(DiscordChannel{*id, *file, fs::file_size(*file)});
  }
  std::sort(channels.begin(), channels.end(),
            [](const DiscordChannel& a, const DiscordChannel& b) { return a.id < b.id; });
  return channels;
}

std::optional<std::string> discord_owner_name(const fs::path& package) {
  const std::optional<fs::path> account = first_existing(package, {"account", "Account"}, false);
  if (!account) return std::nullopt;
  const std::optional<fs::path> user_file = first_existing(*account, {"user.json"}, true);
  if (!user_file) return std::nullopt;
  const std::string content = read_whole_file(user_file->string());
  nlohmann::json user;
  try {
    user = nlohmann::json::parse(content);
  } catch (const nlohmann::json::parse_error& error) {
    throw CorpusError(malformed_json(user_file->string(), content, error));
  }
  for (const char* key : {"global_name", "username"}) {
    const auto name = user.find(key);  // end() when user is not an object
    if (name != user.end() && name->is_string() && !name->get_ref<const std::string&>().empty()) {
      return name->get<std::string>();
    }
  }
  return std::nullopt;
}

}  // namespace loom::data_tools
