// Finding a Discord package's channels and owner; see discord_package.hpp.
#include "discord_package.hpp"

#include <algorithm>
#include <charconv>

#include "ascii_text.hpp"
#include "input_stream.hpp"
#include "json_errors.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {
namespace fs = std::filesystem;
namespace {

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

// The subfolders of `folder` in byte order of their names (the order of a
// listing differs between filesystems); `error` says when it cannot be listed.
std::vector<fs::path> subfolders(const fs::path& folder, std::error_code& error) {
  std::vector<fs::path> found;
  fs::directory_iterator entry(folder, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    std::error_code ignored;  // an entry that vanished is no folder
    if (entry->is_directory(ignored)) found.push_back(entry->path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// While looking for a package, a folder that cannot be listed is no part of
// one: the folder walk that asked reports it when it lists it itself.
std::vector<fs::path> subfolders_if_listed(const fs::path& folder) {
  std::error_code ignored;
  return subfolders(folder, ignored);
}

// The id in a channel folder's name: "c<digits>" since mid-2021, "<digits>"
// before.
std::optional<std::uint64_t> channel_id(const fs::path& folder) {
  const std::string name = folder.filename().string();
  const std::size_t digits = !name.empty() && name[0] == 'c' ? 1 : 0;
  std::uint64_t id = 0;
  const char* end = name.data() + name.size();
  const auto [stop, error] = std::from_chars(name.data() + digits, end, id);
  if (name.size() == digits || error != std::errc() || stop != end) return std::nullopt;
  return id;
}

// A channel folder: named for a channel and holding a file Discord puts in
// one (a package of June 2021 had channel.json alone).
bool is_channel_folder(const fs::path& folder) {
  if (!channel_id(folder)) return false;
  return is_file(folder / "messages.json") || is_file(folder / "messages.csv") ||
         is_file(folder / "channel.json");
}

bool is_messages_folder(const fs::path& folder) {
  const std::vector<fs::path> children = subfolders_if_listed(folder);
  if (std::any_of(children.begin(), children.end(), is_channel_folder)) return true;
  // A package whose owner never wrote a message, or whose channel folders
  // went missing: found by the English name, so that its error can say so.
  return equals_ignoring_case(folder.filename().string(), "messages") &&
         is_file(folder / "index.json");
}

// The folder as a user may spell it ("pkg/Messages/", ".") with a name to
// judge and a parent to look in.
fs::path named_path(const fs::path& folder) {
  std::error_code error;
  fs::path absolute = fs::absolute(folder, error);
  if (error) absolute = folder;
  absolute = absolute.lexically_normal();
  return absolute.has_filename() ? absolute : absolute.parent_path();
}

// The messages file of a channel folder, if it has one; messages.json first.
std::optional<DiscordChannel> channel_in(const fs::path& folder, std::uint64_t id) {
  for (const char* name : {"messages.json", "messages.csv"}) {
    const fs::path file = folder / name;
    std::error_code error;
    const std::uint64_t bytes = fs::file_size(file, error);
    if (!error && is_file(file)) return DiscordChannel{id, file, bytes};
  }
  return std::nullopt;
}

DiscordPackage survey_messages_folder(DiscordFolderKind kind, const fs::path& folder,
                                      const fs::path& messages_folder) {
  DiscordPackage package;
  package.kind = kind;
  package.folder = folder;
  package.messages_folder = messages_folder;
  std::error_code error;
  for (const fs::path& child : subfolders(messages_folder, error)) {
    const std::optional<std::uint64_t> id = channel_id(child);
    if (!id) continue;
    ++package.channel_folders;
    if (std::optional<DiscordChannel> channel = channel_in(child, *id)) {
      package.channels.push_back(std::move(*channel));
    }
  }
  if (error) {
    throw CorpusError(fmt::format("cannot list Discord channels in '{}': {}",
                                  messages_folder.string(), error.message()));
  }
  std::stable_sort(package.channels.begin(), package.channels.end(),
                   [](const DiscordChannel& a, const DiscordChannel& b) { return a.id < b.id; });
  return package;
}

}  // namespace

std::uint64_t DiscordPackage::bytes() const {
  std::uint64_t sum = 0;
  for (const DiscordChannel& channel : channels)
    sum += channel.bytes;
  return sum;
}

std::string DiscordPackage::describe() const {
  const char* what = kind == DiscordFolderKind::package           ? "package"
                     : kind == DiscordFolderKind::messages_folder ? "messages folder"
                                                                  : "channel folder";
  return fmt::format("discord {} '{}'", what, folder.string());
}

std::string DiscordPackage::missing_messages() const {
  const std::string expected_file = "messages.json or messages.csv";
  if (kind == DiscordFolderKind::channel_folder) {
    return fmt::format("{}: found channel.json but no {}; expected one of them beside it",
                       describe(), expected_file);
  }
  const std::string found =
      fmt::format("found folder '{}' with", messages_folder.filename().string());
  if (channel_folders == 0) {
    return fmt::format(
        "{}: {} no channel folders; expected one per channel its owner wrote in, c<id>/ (<id>/ "
        "in packages before mid-2021), holding {}",
        describe(), found, expected_file);
  }
  return fmt::format(
      "{}: {} {} channel folder{} but no {} in any; expected one in each (a package without "
      "them is incomplete: request the data again)",
      describe(), found, channel_folders, channel_folders == 1 ? "" : "s", expected_file);
}

std::optional<DiscordPackage> find_discord_package(const fs::path& folder) {
  const fs::path named = named_path(folder);
  for (const fs::path& child : subfolders_if_listed(named)) {
    if (is_messages_folder(child)) {
      return survey_messages_folder(DiscordFolderKind::package, folder, child);
    }
  }
  if (is_messages_folder(named)) {
    return survey_messages_folder(DiscordFolderKind::messages_folder, folder, named);
  }
  if (is_channel_folder(named)) {
    DiscordPackage package;
    package.kind = DiscordFolderKind::channel_folder;
    package.folder = folder;
    package.messages_folder = named.parent_path();
    package.channel_folders = 1;
    if (std::optional<DiscordChannel> channel = channel_in(named, *channel_id(named))) {
      package.channels.push_back(std::move(*channel));
    }
    return package;
  }
  return std::nullopt;
}

std::optional<std::string> discord_owner_name(const DiscordPackage& package) {
  std::optional<fs::path> user_file;
  for (const fs::path& child : subfolders_if_listed(package.messages_folder.parent_path())) {
    if (is_file(child / "user.json")) {
      user_file = child / "user.json";
      break;
    }
  }
  if (!user_file) return std::nullopt;
  const std::string content = read_whole_file(user_file->string());
  nlohmann::json user;
  try {
    user = nlohmann::json::parse(content);
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for "1e400"
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
