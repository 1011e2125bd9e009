// Private to prepare: records, cleaned by the filters, grouped into chunks
// of about kChunkBytes of text. A chunk is the unit of parallel work. It is
// cut between records (a long line arrives as several records, so a chunk
// holds at most about 2 x kChunkBytes), never inside a UTF-8 character, and
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

// Consecutive text of one document: its records, each followed by '\n',
// except that the pieces of a line cut by the reader join without one.
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
  void append(TextChunk& chunk, const Record& record);
  void settle_newline(TextChunk& chunk);

  std::unique_ptr<RecordReader> records_;
  RecordFilter filter_;
  Record pending_;  // read but not yet placed in a chunk
  bool has_pending_ = false;
  // A dropped record started a document: the next kept one inherits the start.
  bool document_started_ = false;
  // The line whose first piece the filters dropped: its other pieces go too.
  bool dropping_line_ = false;
  // The newline after the last record, written once the next record shows
  // whether it continues the same line.
  bool newline_owed_ = false;
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
    std::future<Result> oldest = std::move(in_flight.front());
    in_flight.pop_front();
    consume(oldest.get());
  };
  try {
    TextChunk chunk;
    while (chunks.next(chunk)) {
      in_flight.push_back(pool.submit(
          [&work, owned = std::make_shared<TextChunk>(std::move(chunk))] { return work(*owned); }));
      if (in_flight.size() >= max_in_flight) consume_oldest();
      progress.update(chunks.bytes_read());
    }
    while (!in_flight.empty())
      consume_oldest();
  } catch (...) {
    // Queued jobs refer to `work` and whatever it uses (the tokenizer, the
    // caller's locals): none may outlive this call, whatever went wrong.
    for (std::future<Result>& job : in_flight)
      job.wait();
    throw;
  }
  progress.finish(chunks.bytes_read());
}

}  // namespace loom::data_tools
