// Unicode rewrites for the filters: lowercasing and NFC. Both refuse text
// that is not valid UTF-8 and leave it as it was (a corpus with a few broken
// bytes is cleaned everywhere else rather than rejected). "Valid" is decided
// by loom/text/utf8.hpp, the policy the tokenizers follow, which is also
// where the readers' cut points and the filters' character counts come from.
#pragma once

#include <string>

namespace loom::data_tools {

// Unicode simple lowercase mapping of every code point ("ÀÉÎ" -> "àéî").
// False, with `text` unchanged, when it is not valid UTF-8.
bool lowercase_utf8(std::string& text);

// Unicode Normalization Form C ("e" + U+0301 -> "é"). False, with `text`
// unchanged, when it is not valid UTF-8.
bool normalize_nfc(std::string& text);

}  // namespace loom::data_tools
