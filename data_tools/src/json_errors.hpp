// Error messages for malformed JSON, shared by the JSON-based readers: the
// file and position come first, in the "file:line:column" form editors
// jump to, followed by what the parser found.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace loom::data_tools {

// A 1-based line and column (columns count bytes).
struct TextPosition {
  std::uint64_t line = 1;
  std::uint64_t column = 1;
};

// The position of the byte at 0-based `offset` in `content`.
TextPosition position_in(std::string_view content, std::size_t offset);

// The parser's own description of the problem, without nlohmann's
// "[json.exception.parse_error.101] parse error at line 1, column 5: "
// prefix (the position in that prefix is relative to what was parsed, not
// to the file).
std::string json_complaint(const nlohmann::json::exception& error);

// "FILE:LINE:COLUMN: malformed JSON: COMPLAINT"
std::string malformed_json(const std::string& path, TextPosition where, std::string_view complaint);

// Where in `content` the parser gave up, 0-based. nlohmann::json::parse
// throws a parse_error, which says where, or, for a number too large for a
// double ("1e400"), an out_of_range that only quotes the number: its first
// appearance in `content` is taken.
std::size_t json_error_offset(std::string_view content, const nlohmann::json::exception& error);

// The same for an exception of nlohmann::json::parse(content), `content`
// being the whole of the file `path`. Readers catch json::exception, not
// only parse_error, or a number out of range escapes as nlohmann's own
// exception.
std::string malformed_json(const std::string& path, std::string_view content,
                           const nlohmann::json::exception& error);

// "an object", "a string", ... for messages that say what was found.
std::string json_kind(const nlohmann::json& value);

}  // namespace loom::data_tools
