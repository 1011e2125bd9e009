// Private to prepare: the passes over the corpus. For `byte`, `bpe` and
// `unigram` the first builds the tokenizer and the second tokenizes every
// chunk and routes each document to its split in the store; `char` does both
// in one pass, with provisional ids that prepare makes final at commit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "progress.hpp"
#include "text_chunks.hpp"

#include "loom/config/config.hpp"
#include "loom/core/thread_pool.hpp"
#include "loom/data/token_store.hpp"
#include "loom/data_tools/prepare.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::data_tools {

using OpenChunks = std::function<std::unique_ptr<ChunkReader>()>;

// The first pass: `bpe`/`unigram` train on the first prepare.sample_mb MiB
// of cleaned text; `byte` reads nothing. Not for `char`: see below.
std::unique_ptr<text::Tokenizer> build_tokenizer(const config::PrepareConfig& prepare,
                                                 const OpenChunks& open_chunks,
                                                 Progress::Style progress_style,
                                                 std::uint64_t total_bytes);

// Throws CorpusError when the reader handed the filters no record at all:
// the inputs hold no text to read, which is a different failure, and fixed
// differently, from text that the cleaning filters removed.
void refuse_unread_corpus(const ChunkReader& chunks, const std::vector<std::string>& inputs);

// The split of document number `index` (counted over all inputs, after
// cleaning): a seeded hash, so the assignment depends on nothing but the
// document's position, the seed and the fraction. Document 0 always trains.
data::Split split_of_document(std::uint64_t index, std::uint64_t seed, double val_fraction);

struct EncodeTotals {
  SplitCounts train;
  SplitCounts val;
  text::EncodeStats stats;
};

// The tokenizing pass: every chunk tokenized on the pool, appended to the
// writer in corpus order, <eos> after each document when asked.
EncodeTotals encode_corpus(ChunkReader& chunks, const text::Tokenizer& tokenizer,
                           const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                           ThreadPool& pool, Progress& progress);

// The char tokenizer's only pass, before its vocabulary exists: the same,
// with provisional ids from `provisional` (the writer must take provisional
// ids); unless id_counts is null, (*id_counts)[id] gets how often each id
// was written (<eos> not counted), for ProvisionalCharIds::finish. The
// totals' stats.unknown is 0: which characters are unknown is decided by
// finish.
EncodeTotals encode_corpus(ChunkReader& chunks, text::ProvisionalCharIds& provisional,
                           const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                           ThreadPool& pool, Progress& progress,
                           std::vector<std::uint64_t>* id_counts);

}  // namespace loom::data_tools
