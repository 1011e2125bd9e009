// Formatting of JSON errors; see json_errors.hpp.
#include "json_errors.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace loom::data_tools {

TextPosition position_in(std::string_view content, std::size_t offset) {
  offset = std::min(offset, content.size());
  const std::string_view before = content.substr(0, offset);
  TextPosition where;
  where.line += static_cast<std::uint64_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  where.column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return where;
}

std::string json_complaint(const nlohmann::json::exception& error) {
  const std::string_view what = error.what();
  const std::size_t prefix = what.find("parse error");
  const std::size_t colon = what.find(": ", prefix == std::string_view::npos ? 0 : prefix);
  if (colon != std::string_view::npos) return std::string(what.substr(colon + 2));
  const std::size_t bracket = what.find("] ");
  return std::string(bracket == std::string_view::npos ? what : what.substr(bracket + 2));
}

std::string malformed_json(const std::string& path, TextPosition where,
                           std::string_view complaint) {
  return fmt::format("{}:{}:{}: malformed JSON: {}", path, where.line, where.column, complaint);
}

std::size_t json_error_offset(std::string_view content, const nlohmann::json::exception& error) {
  if (const auto* parse_error = dynamic_cast<const nlohmann::json::parse_error*>(&error)) {
    // byte counts from 1 and points at the byte the parser stopped on.
    return parse_error->byte > 0 ? parse_error->byte - 1 : 0;
  }
  // "number overflow parsing '1e400'": the quoted text is the number.
  const std::string_view what = error.what();
  const std::size_t open = what.find('\'');
  const std::size_t close = open == std::string_view::npos ? open : what.find('\'', open + 1);
  if (close == std::string_view::npos) return 0;
  const std::size_t found = content.find(what.substr(open + 1, close - open - 1));
  return found == std::string_view::npos ? 0 : found;
}

std::string malformed_json(const std::string& path, std::string_view content,
                           const nlohmann::json::exception& error) {
  return malformed_json(path, position_in(content, json_error_offset(content, error)),
                        json_complaint(error));
}

std::string json_kind(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::discarded:
      return "nothing";
    default:
      return "a number";
  }
}

}  // namespace loom::data_tools
