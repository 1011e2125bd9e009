// The reader of each corpus format, opened by open_records for one input,
// and the content checks resolve_inputs uses to tell formats apart.
#pragma once

#include <memory>
#include <string>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

std::unique_ptr<RecordReader> open_text_reader(const std::string& path,
                                               const ReaderOptions& options);
std::unique_ptr<RecordReader> open_jsonl_reader(const std::string& path,
                                                const ReaderOptions& options);
// `package` is a package, its messages folder or one channel folder.
std::unique_ptr<RecordReader> open_discord_reader(const std::string& package,
                                                  const ReaderOptions& options);
std::unique_ptr<RecordReader> open_telegram_reader(const std::string& path,
                                                   const ReaderOptions& options);

// Whether the JSON file's top-level object has a "messages" or "chats"
// member, as Telegram's exports do. Streams: the other members are skipped
// without being kept. False for anything that is not such JSON.
bool has_telegram_members(const std::string& path);

// A chat message as a record when ReaderOptions::author_prefix is set.
inline std::string with_author(const std::string& author, const std::string& text) {
  return author + ": " + text;
}

}  // namespace loom::data_tools
