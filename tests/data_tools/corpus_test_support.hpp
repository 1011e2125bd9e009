// Helpers for the corpus reader tests: records shown one per string so a
// whole reading compares with EXPECT_EQ, compressed fixtures written with
// zlib and zstd, and the message and kind of the CorpusError a call throws.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <zlib.h>
#include <zstd.h>

#include "loom/data_tools/record_reader.hpp"

namespace loom::test {

using Lines = std::vector<std::string>;

// "# text" starts a document, "+ text" continues the previous record's line,
// "  text" is any other record.
inline std::string show(const data_tools::Record& record) {
  const char* mark = record.starts_document ? "# " : record.continues_previous ? "+ " : "  ";
  return mark + record.text;
}

inline Lines read_all(data_tools::RecordReader& reader) {
  Lines shown;
  data_tools::Record record;
  while (reader.next(record))
    shown.push_back(show(record));
  return shown;
}

inline Lines read_inputs(const std::vector<std::string>& paths, const std::string& format = "auto",
                         const data_tools::ReaderOptions& options = {}) {
  const std::unique_ptr<data_tools::RecordReader> reader =
      data_tools::open_records(data_tools::resolve_inputs(paths, format), options);
  return read_all(*reader);
}

// The message of the CorpusError `action` throws, or "" when it throws none.
inline std::string corpus_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const data_tools::CorpusError& error) {
    return error.what();
  }
  return "";
}

// How `loom` would end on what `action` throws: "InputResolutionError, exit
// 2", "CorpusError, exit 1", or "" when it throws no CorpusError.
inline std::string corpus_error_kind(const std::function<void()>& action) {
  try {
    action();
  } catch (const data_tools::InputResolutionError& error) {
    return "InputResolutionError, exit " + std::to_string(to_int(error.exit_code()));
  } catch (const data_tools::CorpusError& error) {
    return "CorpusError, exit " + std::to_string(to_int(error.exit_code()));
  }
  return "";
}

// One gzip member per element of `members`, concatenated as `cat` would.
inline std::string write_gzip(const std::string& path, const std::vector<std::string>& members) {
  std::string file;
  for (const std::string& member : members) {
    z_stream stream{};
    deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string compressed(deflateBound(&stream, member.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(member.data()));
    stream.avail_in = static_cast<uInt>(member.size());
    stream.next_out = reinterpret_cast<Bytef*>(compressed.data());
    stream.avail_out = static_cast<uInt>(compressed.size());
    deflate(&stream, Z_FINISH);
    compressed.resize(stream.total_out);
    deflateEnd(&stream);
    file += compressed;
  }
  return write_file(path, file);
}

// One zstd frame per element of `frames`.
inline std::string write_zstd(const std::string& path, const std::vector<std::string>& frames) {
  std::string file;
  for (const std::string& frame : frames) {
    std::string compressed(ZSTD_compressBound(frame.size()), '\0');
    compressed.resize(
        ZSTD_compress(compressed.data(), compressed.size(), frame.data(), frame.size(), 3));
    file += compressed;
  }
  return write_file(path, file);
}

}  // namespace loom::test
