#include "text_chunks.hpp"

namespace loom::data_tools {

ChunkReader::ChunkReader(std::unique_ptr<RecordReader> records, const FilterOptions& filters)
    : records_(std::move(records)), filter_(filters) {}

bool ChunkReader::read_kept_record(Record& record) {
  while (records_->next(record)) {
    // A document whose first records are dropped still starts where its
    // first kept record is; a document with nothing kept disappears.
    document_started_ = document_started_ || record.starts_document;
    if (!filter_.keep(record)) continue;
    record.starts_document = document_started_;
    document_started_ = false;
    return true;
  }
  return false;
}

void ChunkReader::append(TextChunk& chunk, Record& record) {
  if (record.starts_document || chunk.segments.empty()) {
    chunk.segments.push_back(Segment{record.starts_document, {}});
  }
  std::string& text = chunk.segments.back().text;
  // A piece of a long line joins the previous piece without the newline.
  if (record.continues_previous && !text.empty() && text.back() == '\n') text.pop_back();
  text += record.text;
  text += '\n';
  chunk.text_bytes += record.text.size() + 1;
}

bool ChunkReader::next(TextChunk& chunk) {
  chunk.segments.clear();
  chunk.text_bytes = 0;
  if (has_pending_) {
    append(chunk, pending_);
    has_pending_ = false;
  }
  Record record;
  while (read_kept_record(record)) {
    // Close a full chunk only where a new line starts, so the pieces of a
    // long line always travel together.
    if (chunk.text_bytes >= kChunkBytes && !record.continues_previous) {
      pending_ = std::move(record);
      has_pending_ = true;
      return true;
    }
    append(chunk, record);
  }
  return !chunk.segments.empty();
}

}  // namespace loom::data_tools
