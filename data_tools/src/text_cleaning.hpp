// The removal steps of the cleaning filters: links, mentions and fenced
// code blocks. Each removes whole spans of a record's text and returns how
// many it removed; where a removed span started a word, the whitespace after
// it goes too, so "see https://x.org now" becomes "see now", not "see  now".
#pragma once

#include <cstdint>
#include <string>

namespace loom::data_tools {

// Links: "http://", "https://" or "www." (any case) at the start of a word,
// up to the next whitespace.
std::uint64_t remove_urls(std::string& text);

// Mentions: "@name" at the start of a word (name: letters, digits, '_',
// and '.' between them; so no e-mail address is touched), and Discord's
// <@123>, <@!123>, <@&123> (role) and <#123> (channel).
std::uint64_t remove_mentions(std::string& text);

// Fenced code blocks: from a "```" to the next "```", both removed.
// `in_block` carries a block still open at the end of one record into the
// next: a block opened on a line of its own (a record without newlines, as
// plain text gives) runs on through the following records until its
// closing fence; one left open in a multi-line record (a chat message, a
// JSONL text) ends with that record, so a stray fence never eats a channel.
// Returns the blocks opened; `changed` tells whether anything was removed
// (a record inside a block is removed whole, even an empty one).
std::uint64_t remove_code_blocks(std::string& text, bool& in_block, bool& changed);

// Drops leading and trailing ASCII whitespace.
void trim(std::string& text);

}  // namespace loom::data_tools
