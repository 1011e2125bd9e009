// UTF-8 cutting and counting by hand (they look at a few bytes), case
// mapping and normalisation through utf8proc.
#include "unicode_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <utf8proc.h>

namespace loom::data_tools {
namespace {

bool is_continuation_byte(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char byte) { return static_cast<unsigned char>(byte) < 0x80; });
}

const utf8proc_uint8_t* bytes_of(const std::string& text) {
  return reinterpret_cast<const utf8proc_uint8_t*>(text.data());
}

}  // namespace

std::size_t utf8_cut_point(std::string_view text, std::size_t limit) {
  // A UTF-8 character is at most 4 bytes: its first byte is within 3 bytes
  // before the limit.
  for (std::size_t back = 0; back < 4 && back < limit; ++back) {
    if (!is_continuation_byte(text[limit - back])) return limit - back;
  }
  return limit;
}

std::uint64_t count_code_points(std::string_view text) {
  return static_cast<std::uint64_t>(std::count_if(
      text.begin(), text.end(), [](char byte) { return !is_continuation_byte(byte); }));
}

bool lowercase_utf8(std::string& text) {
  if (is_ascii(text)) {
    for (char& byte : text) {
      if (byte >= 'A' && byte <= 'Z') byte = static_cast<char>(byte - 'A' + 'a');
    }
    return true;
  }
  std::string lowered;
  lowered.reserve(text.size());
  const auto length = static_cast<utf8proc_ssize_t>(text.size());
  for (utf8proc_ssize_t position = 0; position < length;) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t width =
        utf8proc_iterate(bytes_of(text) + position, length - position, &code_point);
    if (width < 0) return false;
    utf8proc_uint8_t encoded[4];
    const utf8proc_ssize_t encoded_width =
        utf8proc_encode_char(utf8proc_tolower(code_point), encoded);
    lowered.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(encoded_width));
    position += width;
  }
  text = std::move(lowered);
  return true;
}

bool normalize_nfc(std::string& text) {
  if (is_ascii(text)) return true;  // ASCII is its own normal form
  utf8proc_uint8_t* normalized = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(bytes_of(text), static_cast<utf8proc_ssize_t>(text.size()), &normalized,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(normalized, &std::free);
  if (length < 0) return false;
  text.assign(reinterpret_cast<const char*>(normalized), static_cast<std::size_t>(length));
  return true;
}

}  // namespace loom::data_tools
