// The layout of a Discord data package ("Request all of my data"), as far
// as Loom reads it: Messages/c<channel id>/messages.json (newer packages)
// or messages.csv (older ones), and account/user.json for the owner's name.
// Older packages spell the folders in lower case; both spellings are found.
// Messages/index.json and each channel.json only name channels, which no
// record carries, so they are not read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loom::data_tools {

struct DiscordChannel {
  std::uint64_t id = 0;
  std::filesystem::path messages_file;  // messages.json or messages.csv
  std::uint64_t bytes = 0;
};

// The package's messages folder when `folder` is a Discord data package.
std::optional<std::filesystem::path> discord_messages_folder(const std::filesystem::path& folder);

// The channels that have a messages file, in order of channel id (Discord
// ids grow with time, so the oldest channel comes first). A channel with
// both files is read from messages.json.
std::vector<DiscordChannel> discord_channels(const std::filesystem::path& messages_folder);

// account/user.json: the package owner's display name ("global_name") when
// set, else the "username", else nothing (no such file).
std::optional<std::string> discord_owner_name(const std::filesystem::path& package);

}  // namespace loom::data_tools
