// The chat-export readers: a Discord data package (messages.json and
// messages.csv channels, oldest first, the owner as author) and Telegram
// Desktop's JSON export (a single chat or a whole account, streamed).
#include <filesystem>
#include <fstream>
#include <string>

#include "chat_export_fixtures.hpp"
#include "corpus_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

ReaderOptions with_authors() {
  ReaderOptions options;
  options.author_prefix = true;
  return options;
}

// A package with a JSON channel (c1000), a CSV channel (c200), a channel
// without messages (c9) and a folder that is no channel.
std::string write_discord_package(const TempDir& dir, const std::string& user_json) {
  const fs::path package = dir.path() / "package";
  const fs::path messages = package / "Messages";
  for (const char* folder : {"c1000", "c200", "c9", "notes"}) {
    fs::create_directories(messages / folder);
  }
  if (!user_json.empty()) {
    fs::create_directories(package / "account");
    write_file((package / "account" / "user.json").string(), user_json);
  }
  write_file((messages / "index.json").string(), R"({"1000": "bob", "200": "general"})");
  write_file((messages / "c1000" / "channel.json").string(), R"({"id": "1000", "type": 1})");
  // Newest first, as packages list them; IDs as numbers or strings.
  write_file((messages / "c1000" / "messages.json").string(), R"([
  {"ID": 1003, "Timestamp": "2023-05-01 10:00:03", "Contents": "third", "Attachments": ""},
  {"ID": "1002", "Timestamp": "2023-05-01 10:00:02", "Contents": "", "Attachments": "x.png"},
  {"ID": 1001, "Timestamp": "2023-05-01 10:00:01", "Contents": "first\nline two", "Attachments": ""}
])");
  write_file((messages / "c200" / "messages.csv").string(),
             "ID,Timestamp,Contents,Attachments\r\n"
             "203,2020-01-01 10:00:03.000000+00:00,,https://cdn.example/x.png\r\n"
             "202,2020-01-01 10:00:02.000000+00:00,\"she said \"\"hi\"\"\r\nand left\",\r\n"
             "201,2020-01-01 10:00:01.000000+00:00,\"a, b\",\r\n");
  write_file((messages / "notes" / "messages.json").string(), "not read");
  return package.string();
}

TEST(DiscordReader, ChannelsInIdOrderMessagesOldestFirst) {
  TempDir dir;
  const std::string package = write_discord_package(dir, "");
  EXPECT_EQ(read_inputs({package}),
            (Lines{"# a, b", "  she said \"hi\"\r\nand left", "# first\nline two", "  third"}));
}

TEST(DiscordReader, AuthorIsTheOwnersDisplayNameElseUsernameElseMe) {
  TempDir with_global, with_username, without_account;
  const Lines expected_alice{"# Alice: a, b", "  Alice: she said \"hi\"\r\nand left",
                             "# Alice: first\nline two", "  Alice: third"};
  EXPECT_EQ(read_inputs({write_discord_package(
                            with_global, R"({"username": "alice_w", "global_name": "Alice"})")},
                        "auto", with_authors()),
            expected_alice);
  EXPECT_EQ(read_inputs({write_discord_package(with_username,
                                               R"({"username": "alice_w", "global_name": null})")},
                        "auto", with_authors())[0],
            "# alice_w: a, b");
  EXPECT_EQ(read_inputs({write_discord_package(without_account, "")}, "auto", with_authors())[0],
            "# me: a, b");
}

TEST(DiscordReader, PackageIsOneInputSizedByItsMessageFiles) {
  TempDir dir;
  const std::string package = write_discord_package(dir, "");
  const std::vector<InputFile> inputs = resolve_inputs({package}, "auto");
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].format, InputFormat::discord);
  const std::uint64_t bytes =
      fs::file_size(fs::path(package) / "Messages" / "c1000" / "messages.json") +
      fs::file_size(fs::path(package) / "Messages" / "c200" / "messages.csv");
  EXPECT_EQ(inputs[0].bytes, bytes);
  const std::unique_ptr<RecordReader> reader = open_records(inputs, ReaderOptions{});
  EXPECT_EQ(read_all(*reader).size(), 4u);
  EXPECT_EQ(reader->bytes_read(), bytes);
}

TEST(DiscordReader, MalformedChannelFilesAreLocated) {
  TempDir dir;
  const std::string package = write_discord_package(dir, "");
  const fs::path messages = fs::path(package) / "Messages";
  const std::string csv = (messages / "c200" / "messages.csv").string();
  write_file(csv, "ID,Timestamp,Contents,Attachments\n1,t,\"never closed\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            csv + ":2: a quoted field opened on this line never closes");
  write_file(csv, "ID,Timestamp,Contents,Attachments\n1,t,\"x\"y,\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            csv + ":2: expected ',' or the end of the line after a closing quote, found 'y'");
  write_file(csv, "ID,Timestamp,Contents,Attachments\n12a,t,x,\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            csv + ":2: expected an ID of digits, found '12a'");
  write_file(csv, "Id,When,Text\n");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            csv + ":1: expected a header with columns ID and Contents, found 'Id,When,Text'");
  fs::remove(csv);
  const std::string json = (messages / "c1000" / "messages.json").string();
  write_file(json, "[\n  {\"ID\": 1, \"Contents\": \"a\"},\n  {\"ID\": 2 \"Contents\": \"b\"}\n]");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            json +
                ":3:21: malformed JSON: syntax error while parsing object - unexpected string "
                "literal; expected '}'");
  // out_of_range, not a parse_error, in nlohmann; found by fuzz/corpus_discord_json.
  write_file(json, "[\n  {\"ID\": 1e400, \"Contents\": \"a\"}\n]");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            json + ":2:10: malformed JSON: number overflow parsing '1e400'");
  write_file(json, "[{\"ID\": 1, \"Contents\": \"a\"}, {\"Contents\": \"b\"}]");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            json + ": message 2: expected an 'ID' of digits, found none");
}

TEST(DiscordReader, EveryLayoutSince2020GivesEveryMessageWithText) {
  for (const DiscordLayout& layout : discord_layouts()) {
    SCOPED_TRACE(layout.name);
    TempDir dir;
    const fs::path package = dir.path() / "package";
    const fs::path messages = write_discord_layout(package, layout);
    const std::vector<InputFile> inputs = resolve_inputs({package.string()}, "auto");
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(inputs[0].format, InputFormat::discord);
    EXPECT_EQ(read_inputs({package.string()}), discord_fixture_records());
    // The package inside a folder being walked, and forced.
    EXPECT_EQ(read_inputs({dir.path().string()}), discord_fixture_records());
    EXPECT_EQ(read_inputs({package.string()}, "discord"), discord_fixture_records());
    // The messages folder named itself, with a trailing slash, keeps the
    // owner found beside it.
    const Lines as_alice = read_inputs({messages.string() + "/"}, "auto", with_authors());
    ASSERT_EQ(as_alice.size(), 5u);
    EXPECT_EQ(as_alice[0], "# Alice: h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x91\x8B");
    // One channel folder alone.
    const std::string channel =
        (messages / (std::string(layout.channel_prefix) + discord_channel_fixtures()[0].id))
            .string();
    EXPECT_EQ(read_inputs({channel}),
              (Lines{"# \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "  trailing comma,"}));
  }
}

TEST(DiscordReader, AByteOrderMarkBeforeTheCsvHeaderIsSkipped) {
  TempDir dir;
  fs::create_directories(dir.path() / "messages" / "42");
  write_file(dir.file("messages/42/messages.csv"),
             "\xEF\xBB\xBFID,Timestamp,Contents,Attachments\n1,2020-01-01,hello,\n");
  EXPECT_EQ(read_inputs({dir.path().string()}), (Lines{"# hello"}));
}

TEST(DiscordReader, FoldersThatOnlyLookLikeAPackageAreText) {
  TempDir dir;
  // A corpus folder named messages, numbered folders without a channel's
  // files, and a messages folder without index.json or channels.
  fs::create_directories(dir.path() / "notes" / "messages" / "2021");
  write_file(dir.file("notes/messages/2021/day.txt"), "a day");
  fs::create_directories(dir.path() / "notes" / "c12");
  write_file(dir.file("notes/c12/messages.txt"), "not a channel");
  EXPECT_EQ(read_inputs({dir.path().string()}), (Lines{"# not a channel", "# a day"}));
}

TEST(DiscordReader, APackageWithoutMessagesSaysWhatItHolds) {
  TempDir dir;
  const fs::path package = dir.path() / "package";
  for (const char* channel : {"c1", "c2", "c3"}) {
    fs::create_directories(package / "Messages" / channel);
    write_file((package / "Messages" / channel / "channel.json").string(), R"({"id": "1"})");
  }
  const std::string expected =
      "discord package '" + package.string() +
      "': found folder 'Messages' with 3 channel folders but no messages.json or messages.csv in "
      "any; expected one in each (a package without them is incomplete: request the data again)";
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package.string()}); }),
            "input '" + package.string() + "': " + expected);
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({package.string()}); }),
            "InputResolutionError, exit 2");
  // Opened without resolving first, the reader says the same.
  EXPECT_EQ(corpus_error_of([&] {
              open_records({InputFile{package.string(), 0, InputFormat::discord}}, {})
                  ->next(*std::make_unique<Record>());
            }),
            expected);
  const std::string channel = (package / "Messages" / "c2").string();
  EXPECT_EQ(corpus_error_of([&] { read_inputs({channel}); }),
            "input '" + channel + "': discord channel folder '" + channel +
                "': found channel.json but no messages.json or messages.csv; expected one of "
                "them beside it");

  const fs::path empty = dir.path() / "empty";
  fs::create_directories(empty / "messages");
  write_file((empty / "messages" / "index.json").string(), "{}");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({empty.string()}); }),
            "input '" + empty.string() + "': discord package '" + empty.string() +
                "': found folder 'messages' with no channel folders; expected one per channel "
                "its owner wrote in, c<id>/ (<id>/ in packages before mid-2021), holding "
                "messages.json or messages.csv");
}

TEST(DiscordReader, APackageWhoseMessagesHaveNoTextSaysSo) {
  TempDir dir;
  const fs::path messages = dir.path() / "package" / "messages";
  fs::create_directories(messages / "c7");
  fs::create_directories(messages / "8");
  write_file((messages / "c7" / "messages.json").string(),
             R"([{"ID": 2, "Contents": "", "Attachments": "https://cdn.example/a.png"},
                 {"ID": 1, "Contents": null, "Attachments": ""}])");
  write_file((messages / "8" / "messages.csv").string(),
             "ID,Timestamp,Contents,Attachments\n3,t,,https://cdn.example/b.png\n");
  const std::string package = (dir.path() / "package").string();
  EXPECT_EQ(corpus_error_of([&] { read_inputs({package}); }),
            "discord package '" + package +
                "': found 2 channels listing 3 messages, none with text (attachments alone or "
                "empty); expected messages with Contents");
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({package}); }), "CorpusError, exit 1");
}

const char* kSingleChat = R"({
 "name": "Bob",
 "type": "personal_chat",
 "id": 42,
 "messages": [
  {"id": 1, "type": "service", "date": "2024-01-01T10:00:00", "actor": "Bob",
   "action": "phone_call", "text": "", "text_entities": []},
  {"id": 2, "type": "message", "date": "2024-01-01T10:00:01", "from": "Bob", "from_id": "user42",
   "text": "hello", "text_entities": [{"type": "plain", "text": "hello"}]},
  {"id": 3, "type": "message", "from": "Alice", "reply_to_message_id": 2,
   "text": ["see ", {"type": "link", "text": "https://x.org"}, " and ",
            {"type": "bold", "text": "this"}],
   "reactions": [{"type": "emoji", "count": 2, "emoji": "\ud83d\udc4d"}]},
  {"id": 4, "type": "message", "from": "Bob", "photo": "photos/photo_1.jpg", "width": 1280,
   "height": -1.5e2, "text": ""},
  {"id": 5, "type": "message", "from": null, "text": "ghost\nline"},
  {"id": 6, "type": "message", "from": "Bob", "text": [{"type": "italic", "text": "caf\u00e9"}]}
 ]
}
)";

TEST(TelegramReader, SingleChatExport) {
  TempDir dir;
  const std::string path = write_file(dir.file("result.json"), kSingleChat);
  EXPECT_EQ(read_inputs({path}),
            (Lines{"# hello", "  see https://x.org and this", "  ghost\nline", "  caf\xC3\xA9"}));
  EXPECT_EQ(read_inputs({path}, "auto", with_authors()),
            (Lines{"# Bob: hello", "  Alice: see https://x.org and this", "  unknown: ghost\nline",
                   "  Bob: caf\xC3\xA9"}));
}

// Found by fuzz/corpus_telegram: a "type" that is not a string escaped as
// nlohmann's type_error; such a message is simply not a text message.
TEST(TelegramReader, AMessageWhoseTypeIsNotAStringIsSkipped) {
  TempDir dir;
  const std::string path =
      write_file(dir.file("result.json"),
                 R"({"messages": [{"type": ["message"], "text": "a"}, {"type": 5, "text": "b"},)"
                 R"( {"type": "message", "text": "c"}]})");
  EXPECT_EQ(read_inputs({path}), (Lines{"# c"}));
}

TEST(TelegramReader, CompactJsonAndNumbersBetweenMembers) {
  TempDir dir;
  const std::string compact = write_file(
      dir.file("compact.json"),
      R"({"id":7,"messages":[{"type":"message","id":1,"text":"x"},{"text":"y","type":"message"}],"n":-1e3})");
  EXPECT_EQ(read_inputs({compact}, "telegram"), (Lines{"# x", "  y"}));
  const std::string bad_number =
      write_file(dir.file("number.json"), R"({"id": 1.2.3, "messages": []})");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({bad_number}, "telegram"); }),
            bad_number + ":1:8: malformed JSON: invalid number literal '1.2.3'");
}

const char* kAccountExport = R"({
 "about": "Here is the data you requested.",
 "personal_information": {"user_id": 1, "first_name": "Alice", "phone_number": "+100",
                          "bio": "{\"messages\": [\"not a member\"]}"},
 "contacts": {"about": "contacts", "list": [{"first_name": "Bob", "date": "2020-01-01"}]},
 "frequent_contacts": {"about": "x", "list": [{"id": 5, "rating": 0.25}]},
 "chats": {
  "about": "This page lists all chats from this export.",
  "list": [
   {"name": "Bob", "type": "personal_chat", "id": 1, "messages": [
     {"id": 1, "type": "message", "from": "Bob", "text": "hi alice"},
     {"id": 2, "type": "message", "from": "Alice", "text": ["hi ", {"type": "mention",
      "text": "@bob"}]}
   ]},
   {"name": "Quiet", "type": "private_group", "id": 2, "messages": [
     {"id": 1, "type": "service", "actor": "Alice", "action": "create_group", "text": ""}
   ]},
   {"name": "Club", "type": "private_supergroup", "id": 3, "messages": [],
    "extra": {"messages": [{"type": "message", "text": "nested, not a chat's"}]}},
   {"name": "Club 2", "type": "public_channel", "id": 4, "messages": [
     {"id": 7, "type": "message", "from": "Club 2", "text": "news"}
   ]}
  ]
 },
 "left_chats": {"about": "left", "list": [
   {"name": "Old", "type": "private_group", "id": 9, "messages": [
     {"id": 1, "type": "message", "from": "Eve", "text": "left behind"}]}
 ]},
 "other_data": {"about": "x", "changes_log": [{"type": "name", "value": "A"}]}
}
)";

TEST(TelegramReader, WholeAccountExportHasOneDocumentPerChat) {
  TempDir dir;
  const std::string path = write_file(dir.file("export.json"), kAccountExport);
  const std::vector<InputFile> inputs = resolve_inputs({path}, "auto");
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].format, InputFormat::telegram);
  EXPECT_EQ(read_inputs({path}, "auto", with_authors()),
            (Lines{"# Bob: hi alice", "  Alice: hi @bob", "# Club 2: news", "# Eve: left behind"}));
}

TEST(TelegramReader, MalformedExportIsLocated) {
  TempDir dir;
  const std::string literal =
      write_file(dir.file("a.json"),
                 "{\"messages\": [\n  {\"type\": \"message\", \"text\": \"a\"},\n"
                 "  {\"type\": \"message\", \"text\": tru}]}");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({literal}, "telegram"); }),
            literal +
                ":3:34: malformed JSON: syntax error while parsing value - invalid literal; "
                "last read: '\"text\": tru}'");
  const std::string separator =
      write_file(dir.file("b.json"),
                 "{\"chats\": {\"list\": [\n {\"messages\": []}\n {\"messages\": []}\n]}}");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({separator}, "telegram"); }),
            separator + ":3:2: malformed JSON: expected ',' or ']', found '{'");
  const std::string array = write_file(dir.file("c.json"), "  [1, 2]");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({array}, "telegram"); }),
            array + ":1:3: malformed JSON: expected a Telegram export (a JSON object), found '['");
  const std::string cut = write_file(dir.file("d.json"), "{\"messages\": [{\"type\": \"mess");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({cut}, "telegram"); }),
            cut +
                ":1:29: malformed JSON: syntax error while parsing value - invalid string: "
                "missing closing quote; last read: '\"mess'");
  const std::string trailing = write_file(dir.file("e.json"), "{\"messages\": []} {}");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({trailing}, "telegram"); }),
            trailing + ":1:18: malformed JSON: expected the end of the file, found '{'");
}

TEST(TelegramReader, AnExportWithoutMessageTextSaysWhatItHolds) {
  TempDir dir;
  fs::create_directories(dir.path() / "a");
  const std::string neither =
      write_file(dir.file("a/result.json"), R"({"about": "x", "contacts": {"list": []}})");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({neither}); }),
            "telegram export '" + neither +
                "': found no 'messages' and no 'chats'; expected Telegram Desktop's JSON export "
                "of a chat ({\"name\", \"type\", \"messages\": [...]}) or of a whole account "
                "({\"chats\": {\"list\": [...]}})");
  const std::string no_chats =
      write_file(dir.file("b.json"), R"({"chats": {"about": "x", "list": []}})");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({no_chats}); }),
            "telegram export '" + no_chats +
                "': found 'chats' without a chat in its list; expected Telegram Desktop's JSON "
                "export of a chat ({\"name\", \"type\", \"messages\": [...]}) or of a whole "
                "account ({\"chats\": {\"list\": [...]}})");
  const std::string silent = write_file(dir.file("c.json"),
                                        R"({"name": "Bob", "type": "personal_chat", "messages": [
           {"id": 1, "type": "service", "action": "phone_call", "text": ""},
           {"id": 2, "type": "message", "from": "Bob", "photo": "photos/1.jpg", "text": ""},
           {"id": 3, "type": "message", "from": "Bob", "text": [{"type": "bold", "text": ""}]}]})");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({silent}); }),
            "telegram export '" + silent +
                "': found 1 chat with 3 messages, none with text (service messages, media "
                "without a caption); expected messages whose \"text\" is not empty");
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({silent}); }), "CorpusError, exit 1");
}

TEST(TelegramReader, AnHtmlExportIsRefusedWithThePathToJson) {
  TempDir dir;
  const fs::path chat = dir.path() / "ChatExport_2024-05-01";
  fs::create_directories(chat / "css");
  write_file((chat / "messages.html").string(), "<html></html>");
  write_file((chat / "css" / "style.css").string(), "body {}");
  EXPECT_EQ(corpus_error_of([&] { read_inputs({dir.path().string()}); }),
            "input '" + dir.path().string() + "': '" + chat.string() +
                "' is a Telegram Desktop export in HTML (messages.html), which Loom does not "
                "read; export again with Format 'Machine-readable JSON' and give the folder "
                "holding result.json");
  const fs::path account = dir.path() / "DataExport_2024-05-01";
  fs::create_directories(account / "lists");
  write_file((account / "export_results.html").string(), "<html></html>");
  EXPECT_EQ(corpus_error_kind([&] { read_inputs({account.string()}); }),
            "InputResolutionError, exit 2");
  // Exported in both formats, the JSON is read.
  write_file((account / "result.json").string(), R"({"chats": {"list": [{"messages": [
    {"type": "message", "text": ["a ", {"type": "code", "text": "b"}]}]}]}})");
  EXPECT_EQ(read_inputs({account.string()}), (Lines{"# a b"}));
}

// Peak resident memory of this process in KiB, or -1 where /proc has none.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      long kib = -1;
      status >> kib;
      return kib;
    }
  }
  return -1;
}

TEST(TelegramReader, StreamsAnExportLargerThanItsMemory) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer holds freed memory back, so peak RSS says nothing here";
#endif
  TempDir dir;
  const std::string path = dir.file("result.json");
  {
    std::ofstream out(path);
    out << "{\"chats\": {\"list\": [";
    const std::string text(200, 'm');
    for (int chat = 0; chat < 4; ++chat) {
      out << (chat ? "," : "") << "{\"name\": \"c\", \"messages\": [";
      for (int message = 0; message < 40000; ++message) {
        out << (message ? "," : "") << "{\"id\": " << message
            << ", \"type\": \"message\", \"from\": \"x\", \"text\": [\"" << text
            << "\", {\"type\": \"bold\", \"text\": \"!\"}]}";
      }
      out << "]}";
    }
    out << "]}}";
  }
  ASSERT_GT(fs::file_size(path), 40u << 20);
  const long before = peak_rss_kib();
  if (before < 0) GTEST_SKIP() << "no /proc/self/status here";
  const std::unique_ptr<RecordReader> reader =
      open_records(resolve_inputs({path}, "auto"), ReaderOptions{});
  Record record;
  std::uint64_t records = 0, documents = 0;
  while (reader->next(record)) {
    ++records;
    documents += record.starts_document ? 1 : 0;
    ASSERT_EQ(record.text.size(), 201u);
  }
  EXPECT_EQ(records, 160000u);
  EXPECT_EQ(documents, 4u);
  // A DOM of the whole file would take several hundred MiB.
  EXPECT_LT(peak_rss_kib() - before, 16 * 1024);
}

}  // namespace
}  // namespace loom::data_tools
