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
#include <string_view>
#include <vector>

#include "progress.hpp"

#include "loom/core/thread_pool.hpp"
#include "loom/data_tools/filters.hpp"
#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

inline constexpr std::size_t kChunkBytes = 1 << 20;

// Consecutive text of one document, as a view into its chunk: its records,
// each followed by '\n', except that the pieces of a line cut by the reader
// join without one.
struct Segment {
  bool starts_document = false;
  std::string_view text;
};

// One buffer of text and where its segments begin, so a chunk costs two
// allocations however many short documents it holds.
class TextChunk {
 public:
  std::size_t segments() const { return starts_.size(); }
  Segment segment(std::size_t i) const {
    const std::size_t end = i + 1 < starts_.size() ? starts_[i + 1].offset : text_.size();
    return Segment{starts_[i].starts_document,
                   std::string_view(text_).substr(starts_[i].offset, end - starts_[i].offset)};
  }
  std::string_view text() const { return text_; }  // every segment, in order
  std::size_t text_bytes() const { return text_.size(); }
  bool empty() const { return starts_.empty(); }

  void clear() {
    text_.clear();
    starts_.clear();
  }
  // Text from here on belongs to a new segment.
  void begin_segment(bool starts_document) {
    if (text_.capacity() == 0) text_.reserve(kChunkBytes + kMaxRecordBytes + 64);
    starts_.push_back(Start{text_.size(), starts_document});
  }
  void append(std::string_view text) { text_ += text; }
  void append(char c) { text_ += c; }

 private:
  struct Start {
    std::size_t offset;
    bool starts_document;
  };
  std::string text_;
  std::vector<Start> starts_;
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
// to `consume` in corpus order, on a thread of its own: reading (this
// thread), working (the pool) and consuming overlap like a pipeline. At most
// 2 x threads + 2 chunks are in flight, so memory stays bounded whatever the
// corpus size.
template <class Work, class Consume>
void map_chunks_in_order(ChunkReader& chunks, ThreadPool& pool, Progress& progress, Work work,
                         Consume consume) {
  using Result = std::invoke_result_t<Work, const TextChunk&>;
  const std::size_t max_in_flight = 2 * static_cast<std::size_t>(pool.size()) + 2;
  ThreadPool consumer(1);  // one thread, so results are consumed in submission order
  std::deque<std::future<void>> in_flight;  // each ready once its chunk is consumed
  auto finish_oldest = [&] {
    std::future<void> oldest = std::move(in_flight.front());
    in_flight.pop_front();
    oldest.get();  // rethrows what the work or the consumer threw
  };
  try {
    TextChunk chunk;
    while (chunks.next(chunk)) {
      auto result = std::make_shared<std::future<Result>>(pool.submit(
          [&work, owned = std::make_shared<TextChunk>(std::move(chunk))] { return work(*owned); }));
      in_flight.push_back(consumer.submit([result, &consume] { consume(result->get()); }));
      if (in_flight.size() >= max_in_flight) finish_oldest();
      progress.update(chunks.bytes_read());
    }
    while (!in_flight.empty())
      finish_oldest();
  } catch (...) {
    // Queued jobs refer to `work`, `consume` and whatever they use (the
    // tokenizer, the writer, the caller's locals): none may outlive this
    // call, whatever went wrong.
    for (std::future<void>& job : in_flight)
      job.wait();
    throw;
  }
  progress.finish(chunks.bytes_read());
}

}  // namespace loom::data_tools
