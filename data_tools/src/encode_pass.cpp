// The tokenizing pass of prepare: tokenize and write, documents routed to
// their split; with provisional char ids, counting each id too.
#include <algorithm>

#include "corpus_passes.hpp"

#include "loom/core/mix.hpp"

namespace loom::data_tools {
namespace {

// A chunk's ids in one vector, and where each segment's ids begin.
struct EncodedChunk {
  struct Segment {
    std::size_t begin;
    bool starts_document;
    text::EncodeStats stats;
  };
  std::vector<text::TokenId> ids;
  std::vector<Segment> segments;
  // How often each id occurs in `ids`, when asked. A chunk holds a few MB of
  // text, so 32 bits are plenty.
  std::vector<std::uint32_t> id_counts;
};

// `Encoder`: a const text::Tokenizer or a text::ProvisionalCharIds.
template <class Encoder>
EncodedChunk encode_chunk(const TextChunk& chunk, Encoder& tokenizer) {
  EncodedChunk encoded;
  encoded.ids.reserve(chunk.text_bytes());
  encoded.segments.reserve(chunk.segments());
  for (std::size_t i = 0; i < chunk.segments(); ++i) {
    const Segment segment = chunk.segment(i);
    encoded.segments.push_back({encoded.ids.size(), segment.starts_document, {}});
    tokenizer.encode(segment.text, encoded.ids, &encoded.segments.back().stats);
  }
  return encoded;
}

std::vector<std::uint32_t> count_ids(const std::vector<text::TokenId>& ids) {
  if (ids.empty()) return {};
  const std::size_t bound = std::size_t{*std::max_element(ids.begin(), ids.end())} + 1;
  // One table per position mod 4, added up at the end: a run of one id (the
  // spaces and e's of text) then bumps four counters in turn instead of
  // waiting on each increment of one, which doubles the speed.
  constexpr std::size_t kLanes = 4;
  std::vector<std::uint32_t> counts(kLanes * bound);
  std::uint32_t* const lanes = counts.data();
  const std::size_t whole = ids.size() - ids.size() % kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes) {
    for (std::size_t lane = 0; lane < kLanes; ++lane)
      ++lanes[lane * bound + ids[i + lane]];
  }
  for (std::size_t i = whole; i < ids.size(); ++i)
    ++lanes[ids[i]];
  for (std::size_t lane = 1; lane < kLanes; ++lane) {
    for (std::size_t id = 0; id < bound; ++id)
      lanes[id] += lanes[lane * bound + id];
  }
  counts.resize(bound);
  return counts;
}

// Appends segments in order, opening a document (and closing the previous
// one with <eos>) wherever a segment starts one.
class DocumentRouter {
 public:
  DocumentRouter(const config::PrepareConfig& prepare, data::TokenStoreWriter& writer)
      : prepare_(prepare), writer_(writer) {}

  void add(const EncodedChunk& chunk) {
    for (std::size_t i = 0; i < chunk.segments.size(); ++i) {
      const std::size_t end =
          i + 1 < chunk.segments.size() ? chunk.segments[i + 1].begin : chunk.ids.size();
      add(chunk.segments[i], chunk.ids.data() + chunk.segments[i].begin,
          end - chunk.segments[i].begin);
    }
  }

  EncodeTotals finish() {
    close_document();
    return totals_;
  }

 private:
  void add(const EncodedChunk::Segment& segment, const text::TokenId* ids, std::size_t count) {
    if (segment.starts_document || !open_) {
      close_document();
      split_ = split_of_document(next_document_++, static_cast<std::uint64_t>(prepare_.split_seed),
                                 prepare_.val_fraction);
      writer_.begin_document(split_);
      counts(split_).documents += 1;
      open_ = true;
    }
    writer_.append(split_, ids, count);
    counts(split_).tokens += count;
    counts(split_).characters += segment.stats.characters;
    totals_.stats.add(segment.stats);
  }

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
      [&router](const EncodedChunk& chunk) { router.add(chunk); });
  return router.finish();
}

EncodeTotals encode_corpus(ChunkReader& chunks, text::ProvisionalCharIds& provisional,
                           const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                           ThreadPool& pool, Progress& progress,
                           std::vector<std::uint64_t>* id_counts) {
  DocumentRouter router(prepare, writer);
  map_chunks_in_order(
      chunks, pool, progress,
      [&provisional, id_counts](const TextChunk& chunk) {
        // Counted on the pool, so the consumer only adds up a short table.
        EncodedChunk encoded = encode_chunk(chunk, provisional);
        if (id_counts != nullptr) encoded.id_counts = count_ids(encoded.ids);
        return encoded;
      },
      [&router, id_counts](const EncodedChunk& chunk) {
        router.add(chunk);
        if (id_counts == nullptr) return;
        std::vector<std::uint64_t>& totals = *id_counts;
        if (totals.size() < chunk.id_counts.size()) totals.resize(chunk.id_counts.size());
        for (std::size_t id = 0; id < chunk.id_counts.size(); ++id)
          totals[id] += chunk.id_counts[id];
      });
  return router.finish();
}

}  // namespace loom::data_tools
