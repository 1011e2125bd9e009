// UTF-8 helpers around decode_utf8: encoding, counting, repairing and safe
// cut points, all under the policy stated in utf8.hpp.
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

}  // namespace

void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

Utf8Counts count_utf8(std::string_view text) {
  Utf8Counts counts;
  const unsigned char* p = bytes_of(text);
  const unsigned char* const end = p + text.size();
  while (p < end) {
    if (static_cast<std::size_t>(end - p) >= kAsciiBlock && is_ascii_block(p)) {
      counts.characters += kAsciiBlock;
      p += kAsciiBlock;
      continue;
    }
    const Utf8Unit unit = decode_utf8(p, end);
    p += unit.length;
    ++counts.characters;
    counts.invalid += unit.valid ? 0 : 1;
  }
  return counts;
}

std::string replace_invalid_utf8(std::string_view text) {
  std::string repaired;
  repaired.reserve(text.size());
  const unsigned char* const begin = bytes_of(text);
  const unsigned char* const end = begin + text.size();
  const unsigned char* valid_from = begin;  // start of the valid run not yet copied
  const unsigned char* p = begin;
  while (p < end) {
    const Utf8Unit unit = decode_utf8(p, end);
    if (!unit.valid) {
      repaired.append(text.data() + (valid_from - begin), p - valid_from);
      append_utf8(kReplacementCharacter, repaired);
      valid_from = p + unit.length;
    }
    p += unit.length;
  }
  repaired.append(text.data() + (valid_from - begin), end - valid_from);
  return repaired;
}

std::size_t utf8_safe_cut(std::string_view text, std::size_t max_bytes) {
  if (max_bytes >= text.size()) return text.size();
  const unsigned char* const begin = bytes_of(text);
  // Only a continuation byte can be inside a unit. The unit it belongs to,
  // if any, starts at the nearest earlier non-continuation byte, at most 3
  // bytes back (units are at most 4 bytes long); every non-continuation
  // byte starts a unit, whatever precedes it.
  if (!is_continuation(begin[max_bytes])) return max_bytes;
  std::size_t start = max_bytes;
  while (start > 0 && max_bytes - start < 3 && is_continuation(begin[start - 1]))
    --start;
  if (start == 0 || max_bytes - start == 3) return max_bytes;  // a stray continuation byte
  --start;
  const Utf8Unit unit = decode_utf8(begin + start, begin + text.size());
  return start + unit.length > max_bytes ? start : max_bytes;
}

std::string Utf8StreamDecoder::add(std::string_view bytes) {
  held_.append(bytes);
  const unsigned char* const begin = bytes_of(held_);
  const unsigned char* const end = begin + held_.size();
  // Only the last unit can be unfinished: a multi-byte lead whose sequence
  // is well-formed so far but runs into the end. A sequence broken by a bad
  // byte ends before that byte, so it never reaches the end.
  const unsigned char* last = begin;
  for (const unsigned char* p = begin; p < end;) {
    last = p;
    p += decode_utf8(p, end).length;
  }
  std::size_t complete = held_.size();
  if (last < end) {
    const Utf8Unit unit = decode_utf8(last, end);
    if (!unit.valid && *last >= 0xC2 && *last <= 0xF4 && last + unit.length == end)
      complete = static_cast<std::size_t>(last - begin);
  }
  std::string text = replace_invalid_utf8(std::string_view(held_).substr(0, complete));
  held_.erase(0, complete);
  return text;
}

std::string Utf8StreamDecoder::flush() {
  std::string text = replace_invalid_utf8(held_);
  held_.clear();
  return text;
}

}  // namespace loom::text
