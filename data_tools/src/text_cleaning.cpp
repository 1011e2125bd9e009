// Span removal by one left-to-right scan that copies the kept text out.
#include "text_cleaning.hpp"

#include "ascii_text.hpp"

namespace loom::data_tools {
namespace {

bool is_ascii_word_byte(char byte) {
  return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
         (byte >= '0' && byte <= '9') || byte == '_';
}

bool is_digit(char byte) {
  return byte >= '0' && byte <= '9';
}

// Copies a text with spans left out; see the header for the whitespace rule.
class SpanEraser {
 public:
  explicit SpanEraser(std::string_view text) : text_(text) {}

  // Keeps the text up to `end`, then drops it up to `erase_end`.
  void erase(std::size_t end, std::size_t erase_end) {
    if (kept_.capacity() == 0) kept_.reserve(text_.size());
    kept_.append(text_.substr(position_, end - position_));
    position_ = erase_end;
    if (kept_.empty() || is_ascii_space(kept_.back())) {
      while (position_ < text_.size() && is_ascii_space(text_[position_]))
        ++position_;
    }
  }
  // Where the unprocessed text starts.
  std::size_t position() const { return position_; }
  // The kept text, with the rest after the last span.
  std::string finish() {
    kept_.append(text_.substr(position_));
    return std::move(kept_);
  }

 private:
  std::string_view text_;
  std::string kept_;
  std::size_t position_ = 0;
};

// Removes the spans a Matcher finds at word starts. Matcher::length returns
// a span's length at the start of its argument, or 0; Matcher::may_occur
// rules out most records with a fast search before the byte-by-byte scan.
template <class Matcher>
std::uint64_t remove_at_word_starts(std::string& text) {
  if (!Matcher::may_occur(text)) return 0;
  SpanEraser eraser(text);
  std::uint64_t removed = 0;
  for (std::size_t at = 0; at < text.size();) {
    const bool word_start = at == 0 || !is_ascii_word_byte(text[at - 1]);
    const std::size_t length = word_start ? Matcher::length(std::string_view(text).substr(at)) : 0;
    if (length == 0) {
      ++at;
      continue;
    }
    eraser.erase(at, at + length);
    at = eraser.position();
    ++removed;
  }
  if (removed > 0) text = eraser.finish();
  return removed;
}

struct UrlMatcher {
  static bool may_occur(std::string_view text) {
    if (text.find("://") != std::string_view::npos) return true;
    // "www." in any case: look behind each '.'.
    for (std::size_t dot = text.find('.', 3); dot != std::string_view::npos;
         dot = text.find('.', dot + 1)) {
      if (starts_with_ignoring_case(text.substr(dot - 3), "www.")) return true;
    }
    return false;
  }

  static std::size_t length(std::string_view text) {
    const char first = text[0];
    if (first != 'h' && first != 'H' && first != 'w' && first != 'W') return 0;
    if (!starts_with_ignoring_case(text, "http://") &&
        !starts_with_ignoring_case(text, "https://") && !starts_with_ignoring_case(text, "www.")) {
      return 0;
    }
    std::size_t length = 0;
    while (length < text.size() && !is_ascii_space(text[length]))
      ++length;
    return length;
  }
};

struct MentionMatcher {
  static bool may_occur(std::string_view text) {
    // Every mention holds an '@' except the channel one, "<#123>".
    return text.find('@') != std::string_view::npos || text.find("<#") != std::string_view::npos;
  }

  static std::size_t length(std::string_view text) {
    if (text.size() < 2) return 0;
    if (text[0] == '@') return name_mention_length(text);
    if (text[0] == '<') return discord_mention_length(text);
    return 0;
  }

  // "@name": letters, digits, '_', and '.' between them.
  static std::size_t name_mention_length(std::string_view text) {
    std::size_t length = 1;
    while (length < text.size() &&
           (is_ascii_word_byte(text[length]) ||
            (text[length] == '.' && length > 1 && length + 1 < text.size() &&
             is_ascii_word_byte(text[length + 1])))) {
      ++length;
    }
    return length > 1 ? length : 0;
  }

  // "<@123>", "<@!123>", "<@&123>", "<#123>".
  static std::size_t discord_mention_length(std::string_view text) {
    std::size_t length = 0;
    if (text.substr(1, 2) == "@!" || text.substr(1, 2) == "@&") {
      length = 3;
    } else if (text[1] == '@' || text[1] == '#') {
      length = 2;
    } else {
      return 0;
    }
    const std::size_t digits_start = length;
    while (length < text.size() && is_digit(text[length]))
      ++length;
    if (length == digits_start || length == text.size() || text[length] != '>') return 0;
    return length + 1;
  }
};

}  // namespace

std::uint64_t remove_urls(std::string& text) {
  return remove_at_word_starts<UrlMatcher>(text);
}

std::uint64_t remove_mentions(std::string& text) {
  return remove_at_word_starts<MentionMatcher>(text);
}

std::uint64_t remove_code_blocks(std::string& text, bool& in_block, bool& changed) {
  static constexpr std::string_view kFence = "```";
  changed = in_block;
  if (!in_block && text.find(kFence) == std::string::npos) return 0;
  const bool one_line = text.find('\n') == std::string::npos;
  SpanEraser eraser(text);
  std::uint64_t opened = 0;
  std::size_t block_start = 0;  // where the open block began in this record
  for (std::size_t at = 0;;) {
    const std::size_t fence = text.find(kFence, at);
    if (fence == std::string::npos) break;
    if (in_block) {
      eraser.erase(block_start, fence + kFence.size());
      at = eraser.position();
      in_block = false;
    } else {
      block_start = fence;
      at = fence + kFence.size();
      in_block = true;
      ++opened;
    }
  }
  if (in_block) {
    eraser.erase(block_start, text.size());
    if (!one_line) in_block = false;
  }
  text = eraser.finish();
  changed = true;
  return opened;
}

void trim(std::string& text) {
  std::size_t end = text.size();
  while (end > 0 && is_ascii_space(text[end - 1]))
    --end;
  std::size_t start = 0;
  while (start < end && is_ascii_space(text[start]))
    ++start;
  text = text.substr(start, end - start);
}

}  // namespace loom::data_tools
