// UTF-8 decoding under the one policy every part of Loom follows, so that a
// vocabulary, an encoding and a reader's cut points all agree on what a
// character is. Text is read unit by unit: a unit is either a well-formed
// character or a maximal invalid subsequence (Unicode's "substitution of
// maximal subparts"), which reads as one U+FFFD. Overlong forms, surrogates
// (U+D800..U+DFFF) and values above U+10FFFF are invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace loom::text {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// One unit of UTF-8 text.
struct Utf8Unit {
  char32_t code_point;   // U+FFFD when the unit is invalid
  std::uint32_t length;  // bytes it spans, 1 to 4
  bool valid;
};

// Reads the unit that starts at `p` (p < end). Inline: tokenizers call it
// for every non-ASCII character of the corpus.
inline Utf8Unit decode_utf8(const unsigned char* p, const unsigned char* end) {
  const unsigned lead = p[0];
  if (lead < 0x80) return {lead, 1, true};
  // Well-formed sequences (Unicode Table 3-7): the lead byte fixes the length
  // and the range of the second byte, which is where overlong forms,
  // surrogates and values above U+10FFFF are ruled out; later bytes are
  // 80..BF.
  std::uint32_t length = 0;
  char32_t code_point = 0;
  unsigned low = 0x80;
  unsigned high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {kReplacementCharacter, 1, false};
  }
  std::uint32_t read = 1;
  for (; read < length && p + read < end; ++read) {
    const unsigned byte = p[read];
    if (byte < low || byte > high) break;
    code_point = (code_point << 6) | (byte & 0x3F);
    low = 0x80;
    high = 0xBF;
  }
  // A sequence that stops early is the maximal subpart: the byte that broke
  // it starts the next unit.
  if (read < length) return {kReplacementCharacter, read, false};
  return {code_point, length, true};
}

// Hot loops take ASCII kAsciiBlock bytes at a time: one test instead of
// eight on the text that dominates most corpora.
inline constexpr std::size_t kAsciiBlock = 8;
inline bool is_ascii_block(const unsigned char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080ULL) == 0;
}

// Appends the UTF-8 form of a Unicode scalar value (not a surrogate, at
// most U+10FFFF).
void append_utf8(char32_t code_point, std::string& out);

struct Utf8Counts {
  std::uint64_t characters = 0;  // units: characters plus invalid subsequences
  std::uint64_t invalid = 0;     // invalid subsequences
};

// Counts the units of `text`; fast on ASCII.
Utf8Counts count_utf8(std::string_view text);

// `text` with each invalid subsequence replaced by U+FFFD's bytes, so that
// libraries that read UTF-8 their own way see what Loom's tokenizers see.
std::string replace_invalid_utf8(std::string_view text);

// The largest cut <= max_bytes that does not fall inside a unit, so that the
// two sides decode to the same units as the whole. May be 0 when the text
// starts with a character longer than max_bytes: callers that must make
// progress then take that whole character.
std::size_t utf8_safe_cut(std::string_view text, std::size_t max_bytes);

// Turns bytes that arrive in pieces (a byte tokenizer's tokens, streamed one
// at a time) into valid UTF-8 pieces for consumers that need whole
// characters, such as JSON: a character split across pieces is held back
// until its last byte arrives, and each invalid subsequence becomes U+FFFD,
// so the pieces joined are replace_invalid_utf8() of the bytes joined.
class Utf8StreamDecoder {
 public:
  // The text that is now complete: everything added so far except a tail
  // that is the beginning of a character not finished yet.
  std::string add(std::string_view bytes);

  // The held tail at the end of the stream: a character that never got its
  // last bytes, as U+FFFD (empty when nothing is held).
  std::string flush();

 private:
  std::string held_;
};

}  // namespace loom::text
