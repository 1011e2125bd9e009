// Lines of a (possibly compressed) file: "\n" or "\r\n" endings, a last line
// without one, a UTF-8 byte order mark at the start dropped. A line longer
// than `max_line_bytes` is handed out in pieces cut between UTF-8 units
// (text::utf8_safe_cut), so memory stays bounded by the limit plus one
// block whatever the file holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "input_stream.hpp"

namespace loom::data_tools {

class LineReader {
 public:
  // No limit: whole lines, however long (for formats that must parse one).
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  LineReader(std::unique_ptr<InputStream> stream, std::size_t max_line_bytes);

  // The next line or piece of a line, without its line ending; false at the
  // end. `continues_previous` is true for the second and later pieces of a
  // cut line.
  bool next(std::string& line, bool& continues_previous);

  // Whether the piece just returned was cut: its line goes on in the next.
  bool line_goes_on() const { return continuing_; }

  // 1-based number of the line the last piece came from.
  std::uint64_t line_number() const { return line_number_; }
  std::uint64_t bytes_read() const { return input_.bytes_read(); }
  const std::string& path() const { return input_.path(); }

 private:
  // Where the line in pending_ stands.
  enum class LineEnd { open, newline, end_of_input };

  // Appends to pending_ up to the end of the line, or until more than the
  // limit (and a byte to spare) is held.
  void gather();
  void drop_byte_order_mark();

  BufferedInput input_;
  std::size_t max_line_bytes_;
  std::size_t gather_limit_;
  std::string pending_;  // the current line's bytes not yet handed out
  LineEnd pending_end_ = LineEnd::open;
  bool continuing_ = false;  // the next piece continues a cut line
  bool at_start_ = true;
  std::uint64_t line_number_ = 0;
};

}  // namespace loom::data_tools
