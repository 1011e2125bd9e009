// The layouts of a Discord data package ("Request all of my data"), as far
// as Loom reads them. Every package since 2020 holds a messages folder with
// one folder per channel the owner wrote in, and an account folder:
//  - until mid-2021: messages/<channel id>/messages.csv (+ channel.json);
//  - from mid-2021: messages/c<channel id>/messages.csv, later messages.json;
//  - from mid-2025: Messages/, Account/ capitalised, and, for users whose
//    Discord speaks another language, translated ("Wiadomości", "メッセージ").
// Only the top folders are ever translated, so the messages folder is found
// by what it holds: channel folders (c<id> or <id> holding messages.json,
// messages.csv or channel.json), or, for a package without channels, by its
// English name beside index.json. index.json (channel id -> name) and each
// channel.json only name channels, which no record carries; they are not
// read.
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

// What a user may name as a Discord input: the package (the zip extracted),
// its messages folder, or one channel folder.
enum class DiscordFolderKind { package, messages_folder, channel_folder };

struct DiscordPackage {
  DiscordFolderKind kind = DiscordFolderKind::package;
  std::filesystem::path folder;  // as named
  // The folder holding the channel folders; for a channel folder named
  // alone, its parent.
  std::filesystem::path messages_folder;
  std::size_t channel_folders = 0;  // read, or for a channel folder named alone, 1
  // The channels that have a messages file, in order of channel id (Discord
  // ids grow with time, so the oldest channel comes first). A channel with
  // both files is read from messages.json.
  std::vector<DiscordChannel> channels;

  // Summed sizes of the channels' messages files.
  std::uint64_t bytes() const;
  // "discord package 'X'", "discord messages folder 'X'" or "discord channel
  // folder 'X'", to begin a message with.
  std::string describe() const;
  // When no channel has a messages file: what was found and what a package
  // holds, for the error that refuses it.
  std::string missing_messages() const;
};

// `folder` as a Discord input, or nothing when it is none of the three.
// CorpusError when a folder that is one cannot be listed.
std::optional<DiscordPackage> find_discord_package(const std::filesystem::path& folder);

// The owner's user.json, in the folder beside the messages folder that holds
// one (account/ or Account/, or translated): the display name
// ("global_name") when set, else the "username", else nothing (no such
// file, as for a messages folder copied out of its package).
std::optional<std::string> discord_owner_name(const DiscordPackage& package);

}  // namespace loom::data_tools
