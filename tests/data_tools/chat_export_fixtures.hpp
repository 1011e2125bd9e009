// Discord data packages written as Discord has shipped them since 2020, one
// layout at a time, all holding the same messages, so that a reader test and
// a prepare test can check that every layout gives the same records.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <nlohmann/json.hpp>

namespace loom::test {

struct DiscordLayout {
  const char* name;             // for the test's trace
  const char* messages_folder;  // "messages", "Messages", or translated
  const char* account_folder;
  const char* channel_prefix;  // "c" since mid-2021, "" before
  bool json_messages;          // messages.json, else messages.csv
  const char* csv_line_end;    // for messages.csv
  bool index_json;
  bool channel_json;
};

inline const std::vector<DiscordLayout>& discord_layouts() {
  static const std::vector<DiscordLayout> layouts = {
      {"2020: messages/<id>/messages.csv", "messages", "account", "", false, "\n", true, true},
      {"2021: messages/c<id>/messages.csv, CRLF", "messages", "account", "c", false, "\r\n", true,
       true},
      {"2023: messages/c<id>/messages.json", "messages", "account", "c", true, "", true, true},
      {"2025: Messages/c<id>/messages.json", "Messages", "Account", "c", true, "", true, true},
      {"2025 in Polish: Wiadomo\xC5\x9B\x63i/", "Wiadomo\xC5\x9B\x63i", "Konto", "c", true, "",
       true, true},
      {"no index.json, no channel.json", "Messages", "Account", "c", true, "", false, false},
      {"CSV without index.json", "messages", "account", "", false, "\n", false, true},
  };
  return layouts;
}

struct DiscordMessage {
  const char* id;
  const char* contents;
  const char* attachments;
};

struct DiscordChannelFixture {
  const char* id;
  std::vector<DiscordMessage> newest_first;  // as packages list them
};

// Two channels; the lower id comes first. Unicode, a multi-line message,
// quotes and commas, an attachment alone and an empty message.
inline const std::vector<DiscordChannelFixture>& discord_channel_fixtures() {
  static const std::vector<DiscordChannelFixture> channels = {
      {"912345678901234567",
       {{"1100000000000000005", "trailing comma,", ""},
        {"1100000000000000004", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", ""}}},
      {"712345678901234567",
       {{"1000000000000000005", "", ""},
        {"1000000000000000004", "", "https://cdn.discordapp.com/attachments/1/2/cat.png"},
        {"1000000000000000003", "she said \"hi\", then left", ""},
        {"1000000000000000002", "line one\nline two", ""},
        {"1000000000000000001", "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x91\x8B", ""}}},
  };
  return channels;
}

// The non-empty messages, as the reader's records show them ("# " starts a
// channel's document).
inline std::vector<std::string> discord_fixture_records() {
  return {"# h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x91\x8B", "  line one\nline two",
          "  she said \"hi\", then left", "# \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
          "  trailing comma,"};
}

inline std::string csv_quoted(const std::string& field) {
  std::string quoted = "\"";
  for (const char c : field)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// A field is quoted only when it must be, as Python's csv module writes.
inline std::string csv_field(const std::string& field) {
  return field.find_first_of(",\"\r\n") == std::string::npos ? field : csv_quoted(field);
}

// Writes the package under `package`; returns the path of its messages folder.
inline std::filesystem::path write_discord_layout(const std::filesystem::path& package,
                                                  const DiscordLayout& layout) {
  namespace fs = std::filesystem;
  const fs::path messages = package / layout.messages_folder;
  fs::create_directories(package / layout.account_folder);
  write_file((package / layout.account_folder / "user.json").string(),
             R"({"id": "1", "username": "alice_w", "global_name": "Alice"})");
  fs::create_directories(package / "Servers" / "123456");
  write_file((package / "Servers" / "123456" / "guild.json").string(), R"({"id": "123456"})");
  write_file((package / "README.txt").string(), "Welcome to your Discord Data Package!\n");
  nlohmann::json index = nlohmann::json::object();
  for (const DiscordChannelFixture& channel : discord_channel_fixtures()) {
    const fs::path folder = messages / (std::string(layout.channel_prefix) + channel.id);
    fs::create_directories(folder);
    index[channel.id] = std::string("Direct Message with #") + channel.id;
    if (layout.channel_json) {
      write_file((folder / "channel.json").string(),
                 nlohmann::json{{"id", channel.id}, {"type", 1}}.dump());
    }
    if (layout.json_messages) {
      nlohmann::json list = nlohmann::json::array();
      for (const DiscordMessage& m : channel.newest_first) {
        // IDs are JSON numbers in the packages.
        list.push_back({{"ID", std::stoull(m.id)},
                        {"Timestamp", "2024-03-01 12:00:00"},
                        {"Contents", m.contents},
                        {"Attachments", m.attachments}});
      }
      write_file((folder / "messages.json").string(), list.dump(2));
    } else {
      std::string csv = std::string("ID,Timestamp,Contents,Attachments") + layout.csv_line_end;
      for (const DiscordMessage& m : channel.newest_first) {
        csv += std::string(m.id) + ",2020-08-25 22:54:05.726000+00:00," + csv_field(m.contents) +
               "," + csv_field(m.attachments) + layout.csv_line_end;
      }
      write_file((folder / "messages.csv").string(), csv);
    }
  }
  if (layout.index_json) write_file((messages / "index.json").string(), index.dump());
  return messages;
}

}  // namespace loom::test
