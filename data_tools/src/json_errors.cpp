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

std::string malformed_json(const std::string& path, std::string_view content,
                           const nlohmann::json::parse_error& error) {
  // error.byte counts from 1 and points at the byte the parser stopped on.
  const std::size_t offset = error.byte > 0 ? error.byte - 1 : 0;
  return malformed_json(path, position_in(content, offset), json_complaint(error));
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
