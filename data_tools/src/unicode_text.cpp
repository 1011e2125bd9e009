// Case mapping and normalisation through utf8proc, with Loom's own UTF-8
// decoder deciding validity: utf8proc would judge invalid bytes by its own
// rules, and a record the tokenizer reads one way must not be refused or
// accepted here another way.
#include "unicode_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "ascii_text.hpp"
#include <utf8proc.h>

#include "loom/text/utf8.hpp"

namespace loom::data_tools {
namespace {

bool is_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char byte) { return static_cast<unsigned char>(byte) < 0x80; });
}

bool is_valid_utf8(const std::string& text) {
  return loom::text::count_utf8(text).invalid == 0;
}

}  // namespace

bool lowercase_utf8(std::string& text) {
  if (is_ascii(text)) {
    std::transform(text.begin(), text.end(), text.begin(), ascii_lowercase);
    return true;
  }
  std::string lowered;
  lowered.reserve(text.size());
  const auto* position = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = position + text.size();
  while (position < end) {
    const loom::text::Utf8Unit unit = loom::text::decode_utf8(position, end);
    if (!unit.valid) return false;
    // A simple (one to one) mapping: the result is a scalar value again.
    loom::text::append_utf8(
        static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(unit.code_point))),
        lowered);
    position += unit.length;
  }
  text = std::move(lowered);
  return true;
}

bool normalize_nfc(std::string& text) {
  if (is_ascii(text)) return true;  // ASCII is its own normal form
  if (!is_valid_utf8(text)) return false;
  utf8proc_uint8_t* normalized = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &normalized,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(normalized, &std::free);
  if (length < 0) return false;
  text.assign(reinterpret_cast<const char*>(normalized), static_cast<std::size_t>(length));
  return true;
}

}  // namespace loom::data_tools
