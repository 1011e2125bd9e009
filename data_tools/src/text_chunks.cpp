#include "text_chunks.hpp"

namespace loom::data_tools {

ChunkReader::ChunkReader(std::unique_ptr<RecordReader> records, const FilterOptions& filters)
    : records_(std::move(records)), filter_(filters) {}

bool ChunkReader::read_kept_record(Record& record) {
  while (records_->next(record)) {
    // A document whose first records are dropped still starts where its
    // first kept record is; a document with nothing kept disappears.
    document_started_ = document_started_ || record.starts_document;
    if (record.continues_previous) {
      // A line cut in pieces is kept or dropped whole, as its first piece
      // decided; later pieces are cleaned but not judged on their own.
      if (dropping_line_) continue;
      filter_.keep(record);
      record.starts_document = false;
      return true;
    }
    dropping_line_ = !filter_.keep(record);
    if (dropping_line_) continue;
    record.starts_document = document_started_;
    document_started_ = false;
    return true;
  }
  return false;
}

void ChunkReader::settle_newline(TextChunk& chunk) {
  if (!newline_owed_) return;
  // The newline belongs to the document of the previous record, which the
  // chunk's last segment continues (or a new one, if the chunk just began).
  if (chunk.empty()) chunk.begin_segment(false);
  chunk.append('\n');
  newline_owed_ = false;
}

void ChunkReader::append(TextChunk& chunk, const Record& record) {
  if (!record.continues_previous) settle_newline(chunk);
  if (record.starts_document || chunk.empty()) chunk.begin_segment(record.starts_document);
  chunk.append(record.text);
  newline_owed_ = true;
}

bool ChunkReader::next(TextChunk& chunk) {
  chunk.clear();
  if (has_pending_) {
    append(chunk, pending_);
    has_pending_ = false;
  }
  Record record;
  while (read_kept_record(record)) {
    if (chunk.text_bytes() >= kChunkBytes) {
      pending_ = std::move(record);
      has_pending_ = true;
      return true;
    }
    append(chunk, record);
  }
  settle_newline(chunk);  // the corpus's last line
  return !chunk.empty();
}

}  // namespace loom::data_tools
