// Private to prepare: records, cleaned by the filters, grouped into chunks
// of about kChunkBytes of text. A chunk is the unit of parallel work; it is
// cut only between records, so no line and no UTF-8 character is split, and
// how a corpus is chunked never depends on the number of threads.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "progress.hpp"

#include "loom/core/thread_pool.hpp"
#include "loom/data_tools/filters.hpp"
#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

inline constexpr std::size_t kChunkBytes = 1 << 20;

// Consecutive text of one document. Each record ends with '\n', except that
// a record cut from a longer line is joined to the next piece directly.
struct Segment {
  bool starts_document = false;
  std::string text;
};

struct TextChunk {
  std::vector<Segment> segments;
  std::uint64_t text_bytes = 0;
};

class ChunkReader {
 public:
  ChunkReader(std::unique_ptr<RecordReader> records, const FilterOptions& filters);

  // The next chunk, or false at the end of the corpus.
  bool next(TextChunk& chunk);

  std::uint64_t bytes_read() const { return records_->bytes_read(); }
  const RecordFilter& filter() const { return filter_; }

 private:
  bool read_kept_record(Record& record);
  void append(TextChunk& chunk, Record& record);

  std::unique_ptr<RecordReader> records_;
  RecordFilter filter_;
  Record pending_;  // read but not yet placed in a chunk
  bool has_pending_ = false;
  bool document_started_ = false;  // a dropped record started a document the next kept one inherits
};

// Runs `work(TextChunk)` for every chunk on the pool and hands each result
// to `consume` on the calling thread in corpus order. At most 2 x threads + 2
// chunks are in flight, so memory stays bounded whatever the corpus size.
template <class Work, class Consume>
void map_chunks_in_order(ChunkReader& chunks, ThreadPool& pool, Progress& progress, Work work,
                         Consume consume) {
  using Result = std::invoke_result_t<Work, const TextChunk&>;
  const std::size_t max_in_flight = 2 * static_cast<std::size_t>(pool.size()) + 2;
  std::deque<std::future<Result>> in_flight;
  auto consume_oldest = [&] {
    consume(in_flight.front().get());
    in_flight.pop_front();
  };
  TextChunk chunk;
  while (chunks.next(chunk)) {
    in_flight.push_back(pool.submit(
        [&work, owned = std::make_shared<TextChunk>(std::move(chunk))] { return work(*owned); }));
    if (in_flight.size() >= max_in_flight) consume_oldest();
    progress.update(chunks.bytes_read());
  }
  while (!in_flight.empty())
    consume_oldest();
  progress.finish(chunks.bytes_read());
}

}  // namespace loom::data_tools
