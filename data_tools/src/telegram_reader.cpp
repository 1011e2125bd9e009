// Telegram Desktop's JSON export ("Export chat history" or "Export Telegram
// data", Format "Machine-readable JSON"): a single chat {"name", "type",
// "id", "messages": [...]} or a whole account {..., "chats": {"list":
// [chat, ...]}, "left_chats": {"list": [chat, ...]}, ...}. Each chat is one
// document and each message with text one record (a multi-line message
// stays one record); left chats (groups and channels the owner left) follow
// the others. Whole-account exports run to gigabytes, so the file is walked
// with a JsonCursor: only one message is ever held, and every other member
// (contacts, other_data, a chat's name) is skipped unkept.
#include <optional>
#include <string>
#include <vector>

#include "json_cursor.hpp"
#include "readers.hpp"
#include "record_pieces.hpp"
#include <fmt/format.h>

namespace loom::data_tools {
namespace {

using nlohmann::json;

// The members of a message that make its record; the others (text_entities,
// reactions, media) are not kept.
const std::vector<std::string_view> kMessageMembers = {"type", "from", "text"};

// A message's text: a string, or an array of strings and entity objects
// ({"type": "bold", "text": "..."}) whose texts are concatenated.
std::string flatten_text(const json& text) {
  if (text.is_string()) return text.get<std::string>();
  std::string flat;
  if (!text.is_array()) return flat;
  for (const json& part : text) {
    if (part.is_string()) {
      flat += part.get_ref<const std::string&>();
    } else if (part.is_object()) {
      const auto inner = part.find("text");
      if (inner != part.end() && inner->is_string()) flat += inner->get_ref<const std::string&>();
    }
  }
  return flat;
}

// The record of one message, or nothing for service messages ("type":
// "service": joins, pins, calls) and messages without text (a photo alone).
std::optional<std::string> message_record(const json& message, bool author_prefix) {
  // find, not value("type", ""): value throws nlohmann's type_error when
  // "type" is there but not a string (found by fuzz/corpus_telegram).
  const auto type = message.is_object() ? message.find("type") : message.end();
  if (type == message.end() || *type != "message") return std::nullopt;
  const auto text = message.find("text");
  if (text == message.end()) return std::nullopt;
  std::string flat = flatten_text(*text);
  if (flat.empty()) return std::nullopt;
  if (!author_prefix) return flat;
  // "from" is null for deleted accounts.
  const auto from = message.find("from");
  const bool named =
      from != message.end() && from->is_string() && !from->get_ref<const std::string&>().empty();
  return with_author(named ? from->get<std::string>() : "unknown", flat);
}

class TelegramReader : public RecordReader {
 public:
  TelegramReader(const std::string& path, const ReaderOptions& options)
      : path_(path),
        cursor_(InputStream::open(path)),
        author_prefix_(options.author_prefix),
        pieces_(options.max_record_bytes) {
    cursor_.expect('{', "a Telegram export (a JSON object)");
    stack_.push_back(Level{Kind::root});
  }

  bool next(Record& record) override {
    while (!pieces_.next(record)) {
      if (!find_next_message()) {
        if (!handed_out_) throw CorpusError(no_text_found());
        return false;
      }
      handed_out_ = true;
    }
    return true;
  }

  std::uint64_t bytes_read() const override { return cursor_.bytes_read(); }

 private:
  // The containers the cursor is inside, outermost first. Only those on the
  // way to messages are entered; anything else is skipped whole.
  enum class Kind { root, chats, chat_list, chat, messages };
  struct Level {
    Kind kind;
    bool first = true;
  };

  // What a member named `key` of a `parent` object leads to, if anything.
  static std::optional<Kind> member_kind(Kind parent, const std::string& key) {
    if ((parent == Kind::root || parent == Kind::chat) && key == "messages") return Kind::messages;
    if (parent == Kind::root && (key == "chats" || key == "left_chats")) return Kind::chats;
    if (parent == Kind::chats && key == "list") return Kind::chat_list;
    return std::nullopt;
  }

  void enter(Kind kind) {
    const bool is_array = kind == Kind::messages || kind == Kind::chat_list;
    cursor_.expect(is_array ? '[' : '{', is_array ? "an array" : "an object");
    // Every chat's messages start a document, whether the chat is the whole
    // file or one in an account's list.
    if (kind == Kind::messages) {
      chat_starts_ = true;
      ++chats_;
    }
    if (kind == Kind::chats) found_chats_ = true;
    stack_.push_back(Level{kind});
  }

  // The export ended without a message with text: what it held instead.
  std::string no_text_found() const {
    const std::string about = fmt::format("telegram export '{}'", path_);
    if (chats_ == 0) {
      return fmt::format(
          "{}: found {}; expected Telegram Desktop's JSON export of a chat ({{\"name\", "
          "\"type\", \"messages\": [...]}}) or of a whole account ({{\"chats\": {{\"list\": "
          "[...]}}}})",
          about,
          found_chats_ ? "'chats' without a chat in its list" : "no 'messages' and no 'chats'");
    }
    return fmt::format(
        "{}: found {} chat{} with {} message{}, none with text (service messages, media "
        "without a caption); expected messages whose \"text\" is not empty",
        about, chats_, chats_ == 1 ? "" : "s", messages_, messages_ == 1 ? "" : "s");
  }

  // Walks on to the next message with text and hands it to pieces_; false
  // at the end of the file.
  bool find_next_message() {
    while (!stack_.empty()) {
      Level& level = stack_.back();
      if (level.kind == Kind::messages || level.kind == Kind::chat_list) {
        if (!cursor_.next_element(level.first)) {
          stack_.pop_back();
        } else if (level.kind == Kind::chat_list) {
          enter(Kind::chat);
        } else {
          ++messages_;
          if (std::optional<std::string> text =
                  message_record(cursor_.parse_value(kMessageMembers), author_prefix_)) {
            pieces_.assign(std::move(*text), chat_starts_);
            chat_starts_ = false;
            return true;
          }
        }
        continue;
      }
      std::string key;
      if (!cursor_.next_member(level.first, key)) {
        stack_.pop_back();
        continue;
      }
      if (const std::optional<Kind> kind = member_kind(level.kind, key)) {
        enter(*kind);
      } else {
        cursor_.skip_value();
      }
    }
    cursor_.expect_end();
    return false;
  }

  std::string path_;
  JsonCursor cursor_;
  bool author_prefix_;
  RecordPieces pieces_;
  std::vector<Level> stack_;
  bool chat_starts_ = false;
  // What was met, for the error when no message has text.
  bool found_chats_ = false;    // a "chats" or "left_chats" member
  std::uint64_t chats_ = 0;     // "messages" arrays entered
  std::uint64_t messages_ = 0;  // their elements
  bool handed_out_ = false;     // a record was
};

}  // namespace

std::unique_ptr<RecordReader> open_telegram_reader(const std::string& path,
                                                   const ReaderOptions& options) {
  return std::make_unique<TelegramReader>(path, options);
}

bool has_telegram_members(const std::string& path) {
  try {
    JsonCursor cursor(InputStream::open(path));
    if (cursor.peek() != '{') return false;
    cursor.expect('{', "an object");
    bool first = true;
    std::string key;
    while (cursor.next_member(first, key)) {
      if (key == "messages" || key == "chats") return true;
      cursor.skip_value();
    }
  } catch (const CorpusError&) {
    // Not JSON, or not an object: not an export.
  }
  return false;
}

}  // namespace loom::data_tools
