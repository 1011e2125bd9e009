// A text within the limit is moved into its record whole; a longer one is
// copied out piece by piece.
#include "record_pieces.hpp"

#include "unicode_text.hpp"

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
  const std::size_t length =
      rest <= max_record_bytes_ ? rest : utf8_cut_point(remaining, max_record_bytes_);
  record.text.assign(remaining.substr(0, length));
  offset_ += length;
  pending_ = offset_ < text_.size();
  return true;
}

}  // namespace loom::data_tools
