// A Discord data package (or its messages folder, or one channel folder):
// one document per channel, channels in id order, each channel's messages
// oldest first, one record per message (a multi-line message stays one
// record). Packages list a channel's messages newest first, so a channel's
// file is loaded whole and sorted by message id (Discord ids grow with
// time); channels are small next to the memory prepare has anyway, and only
// one is held at a time. The package holds only its owner's messages, so the
// author prefix is the owner's name.
#include <algorithm>
#include <charconv>
#include <string_view>

#include "csv_rows.hpp"
#include "discord_package.hpp"
#include "input_stream.hpp"
#include "json_errors.hpp"
#include "readers.hpp"
#include "record_pieces.hpp"
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace loom::data_tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ChannelMessage {
  std::uint64_t id = 0;
  std::string contents;
};

// A channel's messages with text, and how many it lists in all (those with
// attachments alone, or empty, included) for the error when none has text.
struct LoadedChannel {
  std::vector<ChannelMessage> messages;
  std::uint64_t listed = 0;
};

std::optional<std::uint64_t> parse_id(std::string_view text) {
  std::uint64_t id = 0;
  const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || stop != text.data() + text.size()) return std::nullopt;
  return id;
}

// messages.json: [{"ID": 123, "Timestamp": "...", "Contents": "...",
// "Attachments": "..."}, ...]; the ID is a number or a string of digits.
LoadedChannel load_json_channel(const std::string& path) {
  const std::string content = read_whole_file(path);
  json messages;
  try {
    messages = json::parse(content);
  } catch (const json::exception& error) {  // parse_error, or out_of_range for "1e400"
    throw CorpusError(malformed_json(path, content, error));
  }
  if (!messages.is_array()) {
    throw CorpusError(
        fmt::format("{}: expected an array of messages, found {}", path, json_kind(messages)));
  }
  LoadedChannel loaded;
  for (json& message : messages) {
    const std::uint64_t index = ++loaded.listed;
    const auto id = message.is_object() ? message.find("ID") : message.end();
    std::optional<std::uint64_t> number;
    if (id != message.end() && id->is_number_unsigned()) number = id->get<std::uint64_t>();
    if (id != message.end() && id->is_string()) number = parse_id(id->get_ref<std::string&>());
    if (!number) {
      throw CorpusError(fmt::format("{}: message {}: expected an 'ID' of digits, found {}", path,
                                    index, id == message.end() ? "none" : id->dump()));
    }
    const auto contents = message.find("Contents");
    if (contents == message.end() || !contents->is_string()) continue;
    std::string& text = contents->get_ref<std::string&>();
    if (text.empty()) continue;
    loaded.messages.push_back(ChannelMessage{*number, std::move(text)});
  }
  return loaded;
}

// messages.csv: a header row "ID,Timestamp,Contents,Attachments", then one
// row per message. A UTF-8 byte order mark, which spreadsheet programs add
// when they save, would otherwise hide the ID column.
LoadedChannel load_csv_channel(const std::string& path) {
  const std::string content = read_whole_file(path);
  std::string_view rest = content;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
  CsvRows rows(rest, path);
  std::vector<std::string> fields;
  if (!rows.next(fields)) return {};
  const auto column = [&](const char* name) {
    const auto found = std::find(fields.begin(), fields.end(), name);
    if (found == fields.end()) {
      throw CorpusError(
          fmt::format("{}:1: expected a header with columns ID and Contents, "
                      "found '{}'",
                      path, fmt::join(fields, ",")));
    }
    return static_cast<std::size_t>(found - fields.begin());
  };
  const std::size_t id_column = column("ID");
  const std::size_t contents_column = column("Contents");
  LoadedChannel loaded;
  while (rows.next(fields)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    ++loaded.listed;
    const std::optional<std::uint64_t> id =
        id_column < fields.size() ? parse_id(fields[id_column]) : std::nullopt;
    if (!id) {
      throw CorpusError(fmt::format("{}:{}: expected an ID of digits, found '{}'", path,
                                    rows.row_line(),
                                    id_column < fields.size() ? fields[id_column] : ""));
    }
    if (contents_column >= fields.size() || fields[contents_column].empty()) continue;
    loaded.messages.push_back(ChannelMessage{*id, std::move(fields[contents_column])});
  }
  return loaded;
}

class DiscordReader : public RecordReader {
 public:
  DiscordReader(const std::string& path, const ReaderOptions& options)
      : package_(open_package(path)), pieces_(options.max_record_bytes) {
    if (package_.channels.empty()) throw CorpusError(package_.missing_messages());
    if (options.author_prefix) author_ = discord_owner_name(package_).value_or("me");
  }

  bool next(Record& record) override {
    while (!pieces_.next(record)) {
      if (!next_message()) {
        if (!handed_out_) throw CorpusError(no_text_found());
        return false;
      }
      handed_out_ = true;
    }
    return true;
  }

  std::uint64_t bytes_read() const override { return bytes_read_; }

 private:
  // Hands the next message to pieces_, loading channels as needed; false
  // after the last channel.
  static DiscordPackage open_package(const std::string& path) {
    std::optional<DiscordPackage> package = find_discord_package(path);
    if (!package) {
      throw CorpusError(fmt::format(
          "'{}' is not a Discord data package, nor its messages folder, nor a channel folder: "
          "expected a folder of channel folders, c<id>/ or <id>/, holding messages.json or "
          "messages.csv",
          path));
    }
    return std::move(*package);
  }

  // Every message the package lists is empty or attachments alone.
  std::string no_text_found() const {
    const std::size_t channels = package_.channels.size();
    return fmt::format(
        "{}: found {} channel{} listing {} message{}, none with text (attachments alone or "
        "empty); expected messages with Contents",
        package_.describe(), channels, channels == 1 ? "" : "s", listed_, listed_ == 1 ? "" : "s");
  }

  bool next_message() {
    const std::vector<DiscordChannel>& channels = package_.channels;
    while (next_in_channel_ == messages_.size()) {
      if (next_channel_ == channels.size()) return false;
      load(channels[next_channel_++]);
    }
    ChannelMessage& message = messages_[next_in_channel_];
    std::string text =
        author_.empty() ? std::move(message.contents) : with_author(author_, message.contents);
    pieces_.assign(std::move(text), /*starts_document=*/next_in_channel_ == 0);
    ++next_in_channel_;
    return true;
  }

  void load(const DiscordChannel& channel) {
    const std::string path = channel.messages_file.string();
    LoadedChannel loaded = channel.messages_file.extension() == ".json" ? load_json_channel(path)
                                                                        : load_csv_channel(path);
    messages_ = std::move(loaded.messages);
    listed_ += loaded.listed;
    std::stable_sort(messages_.begin(), messages_.end(),
                     [](const ChannelMessage& a, const ChannelMessage& b) { return a.id < b.id; });
    next_in_channel_ = 0;
    bytes_read_ += channel.bytes;
  }

  DiscordPackage package_;
  RecordPieces pieces_;
  std::string author_;  // empty without the author prefix
  std::size_t next_channel_ = 0;
  std::vector<ChannelMessage> messages_;
  std::size_t next_in_channel_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t listed_ = 0;  // messages in the channels loaded so far
  bool handed_out_ = false;   // a record was
};

}  // namespace

std::unique_ptr<RecordReader> open_discord_reader(const std::string& package,
                                                  const ReaderOptions& options) {
  return std::make_unique<DiscordReader>(package, options);
}

}  // namespace loom::data_tools
