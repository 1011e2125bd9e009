// A text within the limit is moved into its record whole; a longer one is
// copied out piece by piece.
#include "record_pieces.hpp"

#include "loom/text/utf8.hpp"

namespace loom::data_tools {

void RecordPieces::assign(std::string text, bool starts_document) {
  text_ = std::move(text);
  offset_ = 0;
  pending_ = true;
  starts_document_ = starts_document;
}

bool RecordPieces::next(Record& record) {
  if (!pending_) return false;
  record.starts_document = offset_ == 0 && starts_document_;
  record.continues_previous = offset_ > 0;
  const std::size_t rest = text_.size() - offset_;
  if (offset_ == 0 && rest <= max_record_bytes_) {
    record.text = std::move(text_);
    pending_ = false;
    return true;
  }
  const std::string_view remaining = std::string_view(text_).substr(offset_);
  // Never 0: the limit is at least 4 bytes, room for any whole unit.
  const std::size_t length = text::utf8_safe_cut(remaining, max_record_bytes_);
  record.text.assign(remaining.substr(0, length));
  offset_ += length;
  pending_ = offset_ < text_.size();
  return true;
}

}  // namespace loom::data_tools
