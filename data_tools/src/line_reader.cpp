// Splits the buffered input at newlines with memchr and cuts over-long
// lines between UTF-8 units.
#include "line_reader.hpp"

#include <cstring>

#include "loom/text/utf8.hpp"

namespace loom::data_tools {

LineReader::LineReader(std::unique_ptr<InputStream> stream, std::size_t max_line_bytes)
    : input_(std::move(stream)),
      max_line_bytes_(max_line_bytes),
      // One byte beyond the limit and one more: a cut line then keeps a
      // non-empty rest even after its "\r" is stripped.
      gather_limit_(max_line_bytes >= kUnlimited - 1 ? kUnlimited : max_line_bytes + 1) {}

bool LineReader::next(std::string& line, bool& continues_previous) {
  if (at_start_) drop_byte_order_mark();
  gather();
  if (pending_end_ == LineEnd::end_of_input && pending_.empty() && !continuing_) return false;
  if (!continuing_) ++line_number_;
  continues_previous = continuing_;
  if (pending_.size() > max_line_bytes_) {
    // Never 0: the limit is at least 4 bytes, room for any whole unit.
    const std::size_t cut = text::utf8_safe_cut(pending_, max_line_bytes_);
    line.assign(pending_, 0, cut);
    pending_.erase(0, cut);
    continuing_ = true;
    return true;
  }
  line.swap(pending_);
  pending_.clear();
  if (pending_end_ == LineEnd::newline) pending_end_ = LineEnd::open;
  continuing_ = false;
  return true;
}

void LineReader::gather() {
  while (pending_end_ == LineEnd::open && pending_.size() <= gather_limit_) {
    const std::string_view block = input_.available();
    if (block.empty()) {
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      pending_end_ = LineEnd::end_of_input;
      return;
    }
    const void* newline = std::memchr(block.data(), '\n', block.size());
    if (newline == nullptr) {
      pending_.append(block);
      input_.consume(block.size());
      continue;
    }
    const auto length = static_cast<std::size_t>(static_cast<const char*>(newline) - block.data());
    pending_.append(block.data(), length);
    input_.consume(length + 1);
    if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
    pending_end_ = LineEnd::newline;
  }
}

void LineReader::drop_byte_order_mark() {
  at_start_ = false;
  const std::string_view block = input_.available();
  if (block.substr(0, 3) == "\xEF\xBB\xBF") input_.consume(3);
}

}  // namespace loom::data_tools
