// ASCII byte tests shared by the readers, input resolution and the filters:
// whitespace, and case-insensitive matching of file suffixes and link
// prefixes. They look at bytes only, so they are safe on any UTF-8 (every
// byte of a multi-byte character is >= 0x80 and matches none of them).
#pragma once

#include <algorithm>
#include <string_view>

namespace loom::data_tools {

// Space, tab, newline, carriage return, form feed, vertical tab.
inline bool is_ascii_space(char byte) {
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\f' ||
         byte == '\v';
}

// Whether `text` is empty or ASCII whitespace only.
inline bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_ascii_space);
}

inline char ascii_lowercase(char byte) {
  return byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte - 'A' + 'a') : byte;
}

// Whether the bytes of `text` equal `lowercase` up to ASCII case; `lowercase`
// must be lower case already (it is always a literal).
inline bool equals_ignoring_case(std::string_view text, std::string_view lowercase) {
  return text.size() == lowercase.size() &&
         std::equal(text.begin(), text.end(), lowercase.begin(),
                    [](char byte, char expected) { return ascii_lowercase(byte) == expected; });
}

// ".GZ" ends "a.txt.GZ" as ".gz" does; `lowercase_suffix` as above.
inline bool ends_with_ignoring_case(std::string_view text, std::string_view lowercase_suffix) {
  return text.size() >= lowercase_suffix.size() &&
         equals_ignoring_case(text.substr(text.size() - lowercase_suffix.size()), lowercase_suffix);
}

// "HTTP://x" starts with "http://"; `lowercase_prefix` as above.
inline bool starts_with_ignoring_case(std::string_view text, std::string_view lowercase_prefix) {
  return text.size() >= lowercase_prefix.size() &&
         equals_ignoring_case(text.substr(0, lowercase_prefix.size()), lowercase_prefix);
}

}  // namespace loom::data_tools
