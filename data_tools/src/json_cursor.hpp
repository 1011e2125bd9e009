// A pull parser for JSON files too large to hold: the caller walks the
// outer objects and arrays itself (next_member, next_element) and has each
// value it meets parsed whole (parse_value, for small ones such as a chat
// message) or skipped (skip_value, which checks it but keeps nothing). The
// values themselves go through nlohmann's SAX parser, so what is accepted
// and the complaints about malformed input are nlohmann's; memory is bounded
// by the largest value parsed whole, plus one block of input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "input_stream.hpp"
#include "json_errors.hpp"
#include <nlohmann/json.hpp>

namespace loom::data_tools {

class JsonCursor {
 public:
  explicit JsonCursor(std::unique_ptr<InputStream> stream);

  // The next byte after whitespace, not consumed; '\0' at the end of input.
  char peek();
  // Consumes `expected` after whitespace, else fails saying `what` was
  // expected ("an object").
  void expect(char expected, std::string_view what);
  // Fails unless only whitespace is left.
  void expect_end();

  // Inside an object (after its '{'): reads the next member's key and its
  // ':' and returns true, or consumes the closing '}' and returns false.
  // `first` starts true for each object and is kept by the caller.
  bool next_member(bool& first, std::string& key);
  // Inside an array (after its '['): true when an element follows (its
  // separator consumed), false once the closing ']' is consumed.
  bool next_element(bool& first);

  // The next value, whole; or, when `wanted_members` names any, an object
  // with only those of its members (the others are checked, not kept).
  nlohmann::json parse_value(const std::vector<std::string_view>& wanted_members = {});
  // Checks the next value and drops it.
  void skip_value();

  // Throws CorpusError "FILE:LINE:COLUMN: malformed JSON: COMPLAINT" at the
  // position of the next unread byte.
  [[noreturn]] void fail(std::string_view complaint) const;
  // The same, at the byte the parser stopped on.
  [[noreturn]] void fail_parse(const nlohmann::json::exception& error);

  std::uint64_t bytes_read() const { return input_.bytes_read(); }
  const std::string& path() const { return input_.path(); }

 private:
  friend class CursorBytes;

  bool at_end() { return input_.available().empty(); }
  char current() { return input_.available().front(); }
  void advance();
  // A number at the top of a value, which nlohmann's lexer would read one
  // byte past.
  nlohmann::json parse_number();
  template <class Sax>
  void run_parser(Sax& sax);

  BufferedInput input_;
  TextPosition next_;  // where the next unread byte is
  TextPosition last_;  // where the last consumed byte was
};

}  // namespace loom::data_tools
