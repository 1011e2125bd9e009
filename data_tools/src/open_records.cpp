// One RecordReader over all inputs: each input's reader is opened when the
// previous one is exhausted, so only one file is open at a time.
#include "readers.hpp"
#include <fmt/format.h>

namespace loom::data_tools {
namespace {

std::unique_ptr<RecordReader> open_input(const InputFile& input, const ReaderOptions& options) {
  switch (input.format) {
    case InputFormat::text:
      return open_text_reader(input.path, options);
    case InputFormat::jsonl:
      return open_jsonl_reader(input.path, options);
    case InputFormat::discord:
      return open_discord_reader(input.path, options);
    case InputFormat::telegram:
      return open_telegram_reader(input.path, options);
  }
  return open_text_reader(input.path, options);
}

class ConcatenatedReader : public RecordReader {
 public:
  ConcatenatedReader(std::vector<InputFile> inputs, ReaderOptions options)
      : inputs_(std::move(inputs)), options_(std::move(options)) {}

  bool next(Record& record) override {
    for (;;) {
      if (!current_) {
        if (next_input_ == inputs_.size()) return false;
        current_ = open_input(inputs_[next_input_], options_);
        input_starts_ = true;
      }
      if (current_->next(record)) {
        // Every input starts a document, whatever its reader says.
        if (input_starts_) record.starts_document = true;
        input_starts_ = false;
        return true;
      }
      finished_bytes_ += inputs_[next_input_++].bytes;
      current_.reset();
    }
  }

  std::uint64_t bytes_read() const override {
    return finished_bytes_ + (current_ ? current_->bytes_read() : 0);
  }

 private:
  std::vector<InputFile> inputs_;
  ReaderOptions options_;
  std::unique_ptr<RecordReader> current_;
  std::size_t next_input_ = 0;
  bool input_starts_ = false;
  std::uint64_t finished_bytes_ = 0;
};

}  // namespace

std::unique_ptr<RecordReader> open_records(const std::vector<InputFile>& inputs,
                                           const ReaderOptions& options) {
  // A piece must hold the longest UTF-8 character.
  if (options.max_record_bytes < 4) {
    throw UsageError(
        fmt::format("max_record_bytes must be at least 4, got {}", options.max_record_bytes));
  }
  return std::make_unique<ConcatenatedReader>(inputs, options);
}

}  // namespace loom::data_tools
