// Pass 2 of prepare: tokenize and write, documents routed to their split.
#include "corpus_passes.hpp"

#include "loom/core/mix.hpp"

namespace loom::data_tools {
namespace {

struct EncodedSegment {
  bool starts_document = false;
  std::vector<text::TokenId> ids;
  text::EncodeStats stats;
};

std::vector<EncodedSegment> encode_chunk(const TextChunk& chunk, const text::Tokenizer& tokenizer) {
  std::vector<EncodedSegment> encoded(chunk.segments.size());
  for (size_t i = 0; i < chunk.segments.size(); ++i) {
    encoded[i].starts_document = chunk.segments[i].starts_document;
    encoded[i].ids.reserve(chunk.segments[i].text.size());
    tokenizer.encode(chunk.segments[i].text, encoded[i].ids, &encoded[i].stats);
  }
  return encoded;
}

// Appends segments in order, opening a document (and closing the previous
// one with <eos>) wherever a segment starts one.
class DocumentRouter {
 public:
  DocumentRouter(const config::PrepareConfig& prepare, data::TokenStoreWriter& writer)
      : prepare_(prepare), writer_(writer) {}

  void add(const EncodedSegment& segment) {
    if (segment.starts_document || !open_) {
      close_document();
      split_ = split_of_document(next_document_++, static_cast<std::uint64_t>(prepare_.split_seed),
                                 prepare_.val_fraction);
      writer_.begin_document(split_);
      counts(split_).documents += 1;
      open_ = true;
    }
    writer_.append(split_, segment.ids.data(), segment.ids.size());
    counts(split_).tokens += segment.ids.size();
    counts(split_).characters += segment.stats.characters;
    totals_.stats.add(segment.stats);
  }

  EncodeTotals finish() {
    close_document();
    return totals_;
  }

 private:
  void close_document() {
    if (!open_ || !prepare_.append_eos) return;
    const text::TokenId eos = text::kEosId;
    writer_.append(split_, &eos, 1);
    counts(split_).tokens += 1;
  }
  SplitCounts& counts(data::Split split) {
    return split == data::Split::train ? totals_.train : totals_.val;
  }

  const config::PrepareConfig& prepare_;
  data::TokenStoreWriter& writer_;
  EncodeTotals totals_;
  data::Split split_ = data::Split::train;
  std::uint64_t next_document_ = 0;
  bool open_ = false;
};

}  // namespace

data::Split split_of_document(std::uint64_t index, std::uint64_t seed, double val_fraction) {
  // The first document always trains: a corpus of one document then keeps
  // its text for training, and prepare cuts val from its tail.
  if (index == 0) return data::Split::train;
  const std::uint64_t hash = mix_keys(seed, index);
  const double uniform = static_cast<double>(hash >> 11) * 0x1.0p-53;  // [0, 1)
  return uniform < val_fraction ? data::Split::val : data::Split::train;
}

EncodeTotals encode_corpus(ChunkReader& chunks, const text::Tokenizer& tokenizer,
                           const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                           ThreadPool& pool, Progress& progress) {
  DocumentRouter router(prepare, writer);
  map_chunks_in_order(
      chunks, pool, progress,
      [&tokenizer](const TextChunk& chunk) { return encode_chunk(chunk, tokenizer); },
      [&router](std::vector<EncodedSegment> segments) {
        for (const EncodedSegment& segment : segments)
          router.add(segment);
      });
  return router.finish();
}

}  // namespace loom::data_tools
