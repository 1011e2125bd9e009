// Private to the text module: the loop both char encoders run (the char
// tokenizer, and ProvisionalCharIds before a vocabulary exists), so the two
// cannot disagree on what a character is. It is the hot loop of `prepare`.
#pragma once

#include <cstdint>

#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text::detail {

// Writes one id per UTF-8 unit of [p, end) from `out` on and returns the end
// of what it wrote (room for one id per byte is enough). `id_of(code_point)`
// gives a character's id; an invalid unit reads as U+FFFD, as the policy in
// utf8.hpp says, and adds to `invalid`. ASCII goes kAsciiBlock bytes at a
// time, without decoding.
template <class IdOf>
TokenId* encode_units(const unsigned char* p, const unsigned char* end, TokenId* out,
                      std::uint64_t& invalid, IdOf&& id_of) {
  while (p < end) {
    if (static_cast<std::size_t>(end - p) >= kAsciiBlock && is_ascii_block(p)) {
      for (std::size_t i = 0; i < kAsciiBlock; ++i)
        out[i] = id_of(char32_t{p[i]});
      out += kAsciiBlock;
      p += kAsciiBlock;
      continue;
    }
    if (*p < 0x80) {
      *out++ = id_of(char32_t{*p++});
      continue;
    }
    const Utf8Unit unit = decode_utf8(p, end);
    p += unit.length;
    if (!unit.valid) ++invalid;
    *out++ = id_of(unit.code_point);
  }
  return out;
}

}  // namespace loom::text::detail
