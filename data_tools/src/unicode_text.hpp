// UTF-8 helpers for the readers (where a long line may be cut) and the
// filters (counting, lowercasing and normalising text). Lowercase and NFC
// refuse invalid UTF-8 and leave such text as it was: a corpus with a few
// broken bytes is cleaned everywhere else rather than rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loom::data_tools {

// The largest cut point <= `limit` (limit < text.size()) that does not split
// a UTF-8 character, so text[0, cut) and text[cut, ...) both stay valid. For
// bytes that are not valid UTF-8 around the limit, the limit itself.
std::size_t utf8_cut_point(std::string_view text, std::size_t limit);

// Unicode code points in valid UTF-8 (bytes other than continuation bytes).
std::uint64_t count_code_points(std::string_view text);

// Unicode simple lowercase mapping of every code point ("ÀÉÎ" -> "àéî").
// False, with `text` unchanged, when it is not valid UTF-8.
bool lowercase_utf8(std::string& text);

// Unicode Normalization Form C ("e" + U+0301 -> "é"). False, with `text`
// unchanged, when it is not valid UTF-8.
bool normalize_nfc(std::string& text);

}  // namespace loom::data_tools
