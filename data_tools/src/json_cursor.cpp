// The cursor feeds nlohmann's parser through an input iterator over its
// buffered stream, parsing one value per call (strict = false stops at the
// value's end instead of demanding the end of input). Objects, arrays,
// strings and literals end on their last byte, so the cursor then stands
// exactly after the value; top-level numbers are read here instead.
#include "json_cursor.hpp"

#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

using nlohmann::json;

// The cursor's bytes as an input iterator; a default-constructed one is
// the end.
class CursorBytes {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  CursorBytes() = default;
  explicit CursorBytes(JsonCursor* cursor) : cursor_(cursor) {}

  char operator*() const { return cursor_->current(); }
  CursorBytes& operator++() {
    cursor_->advance();
    return *this;
  }
  CursorBytes operator++(int) {
    CursorBytes before = *this;
    cursor_->advance();
    return before;
  }
  bool operator==(const CursorBytes& other) const { return at_end() == other.at_end(); }
  bool operator!=(const CursorBytes& other) const { return !(*this == other); }

 private:
  bool at_end() const { return cursor_ == nullptr || cursor_->at_end(); }

  JsonCursor* cursor_ = nullptr;
};

namespace {

bool is_json_whitespace(char byte) {
  return byte == ' ' || byte == '\n' || byte == '\r' || byte == '\t';
}

bool is_number_start(char byte) {
  return (byte >= '0' && byte <= '9') || byte == '-';
}

bool is_number_byte(char byte) {
  return (byte >= '0' && byte <= '9') || byte == '-' || byte == '+' || byte == '.' || byte == 'e' ||
         byte == 'E';
}

std::string describe_byte(char byte) {
  if (byte == '\0') return "the end of the file";
  return fmt::format("'{}'", byte);
}

// Accepts a value and keeps nothing of it.
class SkippingSax {
 public:
  explicit SkippingSax(JsonCursor& cursor) : cursor_(cursor) {}
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(json::string_t&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t, const std::string&, const json::exception& error) {
    cursor_.fail_parse(error);
  }

 private:
  JsonCursor& cursor_;
};

// Builds the value as a json DOM; of a top-level object, only the members
// named in `wanted` when that is not empty (the rest are parsed, not kept).
class BuildingSax {
 public:
  BuildingSax(JsonCursor& cursor, const std::vector<std::string_view>& wanted)
      : cursor_(cursor), wanted_(wanted) {}
  bool null() { return add(nullptr); }
  bool boolean(bool value) { return add(value); }
  bool number_integer(json::number_integer_t value) { return add(value); }
  bool number_unsigned(json::number_unsigned_t value) { return add(value); }
  bool number_float(json::number_float_t value, const json::string_t&) { return add(value); }
  bool string(json::string_t& value) { return add(std::move(value)); }
  bool binary(json::binary_t& value) { return add(json::binary(std::move(value))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& key) {
    if (skipped_depth_ > 0) return true;
    const bool top_level = open_.size() == 1;
    if (top_level && !wanted_.empty() &&
        std::find(wanted_.begin(), wanted_.end(), key) == wanted_.end()) {
      skipping_member_ = true;
    } else {
      key_ = std::move(key);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& error) {
    cursor_.fail_parse(error);
  }

  json& result() { return result_; }

 private:
  // A scalar: kept, or the end of a skipped member.
  bool add(json value) {
    if (skipping_member_ && skipped_depth_ == 0) {
      skipping_member_ = false;
    } else if (!skipping_member_) {
      place(std::move(value));
    }
    return true;
  }
  bool open(json container) {
    if (skipping_member_) {
      ++skipped_depth_;
    } else {
      open_.push_back(place(std::move(container)));
    }
    return true;
  }
  bool close() {
    if (!skipping_member_) {
      open_.pop_back();
    } else if (--skipped_depth_ == 0) {
      skipping_member_ = false;
    }
    return true;
  }
  // Puts `value` where the parser is (the root, the open array's end, or
  // the open object's current key) and returns it. Only the chain of open
  // containers is pointed to, and none of them moves while it is open.
  json* place(json value) {
    if (open_.empty()) {
      result_ = std::move(value);
      return &result_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }

  JsonCursor& cursor_;
  const std::vector<std::string_view>& wanted_;
  json result_;
  std::vector<json*> open_;
  std::string key_;
  bool skipping_member_ = false;  // inside a top-level member not wanted
  int skipped_depth_ = 0;         // containers open inside that member
};

}  // namespace

JsonCursor::JsonCursor(std::unique_ptr<InputStream> stream) : input_(std::move(stream)) {}

void JsonCursor::advance() {
  last_ = next_;
  if (current() == '\n') {
    ++next_.line;
    next_.column = 1;
  } else {
    ++next_.column;
  }
  input_.consume(1);
}

char JsonCursor::peek() {
  while (!at_end() && is_json_whitespace(current()))
    advance();
  return at_end() ? '\0' : current();
}

void JsonCursor::expect(char expected, std::string_view what) {
  const char found = peek();
  if (found != expected) fail(fmt::format("expected {}, found {}", what, describe_byte(found)));
  advance();
}

void JsonCursor::expect_end() {
  const char found = peek();
  if (found != '\0') {
    fail(fmt::format("expected the end of the file, found {}", describe_byte(found)));
  }
}

bool JsonCursor::next_member(bool& first, std::string& key) {
  char found = peek();
  if (found == '}') {
    advance();
    return false;
  }
  if (!first) {
    if (found != ',') fail(fmt::format("expected ',' or '}}', found {}", describe_byte(found)));
    advance();
    found = peek();
  }
  first = false;
  if (found != '"') {
    fail(fmt::format("expected a member name in quotes, found {}", describe_byte(found)));
  }
  key = parse_value().get<std::string>();
  expect(':', "':'");
  return true;
}

bool JsonCursor::next_element(bool& first) {
  const char found = peek();
  if (found == ']') {
    advance();
    return false;
  }
  if (!first) {
    if (found != ',') fail(fmt::format("expected ',' or ']', found {}", describe_byte(found)));
    advance();
  }
  first = false;
  return true;
}

json JsonCursor::parse_value(const std::vector<std::string_view>& wanted_members) {
  const char found = peek();
  if (is_number_start(found)) return parse_number();
  BuildingSax sax(*this, wanted_members);
  run_parser(sax);
  return std::move(sax.result());
}

void JsonCursor::skip_value() {
  const char found = peek();
  if (is_number_start(found)) {
    parse_number();
    return;
  }
  SkippingSax sax(*this);
  run_parser(sax);
}

json JsonCursor::parse_number() {
  const TextPosition start = next_;
  std::string number;
  while (!at_end() && is_number_byte(current())) {
    number += current();
    advance();
  }
  json value = json::parse(number, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    throw CorpusError(
        malformed_json(path(), start, fmt::format("invalid number literal '{}'", number)));
  }
  return value;
}

template <class Sax>
void JsonCursor::run_parser(Sax& sax) {
  json::sax_parse(CursorBytes(this), CursorBytes(), &sax, nlohmann::json::input_format_t::json,
                  /*strict=*/false);
}

void JsonCursor::fail(std::string_view complaint) const {
  throw CorpusError(malformed_json(path(), next_, complaint));
}

void JsonCursor::fail_parse(const json::exception& error) {
  // At the end of the input the parser stopped after the last byte.
  throw CorpusError(malformed_json(path(), at_end() ? next_ : last_, json_complaint(error)));
}

}  // namespace loom::data_tools
