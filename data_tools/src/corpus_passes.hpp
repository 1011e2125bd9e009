// Private to prepare: the two passes over the corpus. The first builds the
// tokenizer; the second tokenizes every chunk and routes each document to
// its split in the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "progress.hpp"
#include "text_chunks.hpp"

#include "loom/config/config.hpp"
#include "loom/core/thread_pool.hpp"
#include "loom/data/token_store.hpp"
#include "loom/data_tools/prepare.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::data_tools {

using OpenChunks = std::function<std::unique_ptr<ChunkReader>()>;

// Pass 1. `char` counts characters on the pool; `bpe`/`unigram` train on the
// first prepare.sample_mb MiB of cleaned text; `byte` reads nothing.
std::unique_ptr<text::Tokenizer> build_tokenizer(const config::PrepareConfig& prepare,
                                                 const OpenChunks& open_chunks, ThreadPool& pool,
                                                 Progress::Style progress_style,
                                                 std::uint64_t total_bytes);

// The split of document number `index` (counted over all inputs, after
// cleaning): a seeded hash, so the assignment depends on nothing but the
// document's position, the seed and the fraction. Document 0 always trains.
data::Split split_of_document(std::uint64_t index, std::uint64_t seed, double val_fraction);

struct EncodeTotals {
  SplitCounts train;
  SplitCounts val;
  text::EncodeStats stats;
};

// Pass 2: every chunk tokenized on the pool, appended to the writer in corpus
// order, <eos> after each document when asked.
EncodeTotals encode_corpus(ChunkReader& chunks, const text::Tokenizer& tokenizer,
                           const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                           ThreadPool& pool, Progress& progress);

}  // namespace loom::data_tools
