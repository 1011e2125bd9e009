// `loom prepare`: corpus files -> records -> cleaning -> tokenizer -> token
// store, streaming in fixed-size chunks so memory does not grow with the
// corpus, tokenizing on several threads with output identical to one.
//
// `char` reads the input once: characters get provisional ids as they are
// first met and are counted, and once the corpus is read the vocabulary
// (ids in code point order) is built from the counts and the store written
// with the final ids. `bpe`/`unigram` first train on a bounded sample, then
// tokenize and write in a second pass; `byte` needs no vocabulary pass.
// Documents go to train or val by a seeded hash of their index, so no
// document is in both splits.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/config/config.hpp"
#include "loom/data_tools/filters.hpp"

namespace loom::data_tools {

struct SplitCounts {
  std::uint64_t documents = 0;
  std::uint64_t characters = 0;
  std::uint64_t tokens = 0;
};

struct PrepareReport {
  std::string store_path;
  std::string tokenizer;  // "char", "byte", "bpe", "unigram"
  std::uint32_t vocab_size = 0;
  SplitCounts train;
  SplitCounts val;
  std::uint64_t unknown_tokens = 0;
  std::uint64_t invalid_utf8 = 0;
  std::uint64_t input_bytes = 0;
  std::uint64_t input_files = 0;
  FilterCounts filters;
  std::string split_note;  // set when the split had to cut a document
  int threads = 1;
  // Building the vocabulary: the sampling pass and training for bpe/unigram;
  // for char, choosing it from the counts after the single pass.
  double vocab_seconds = 0;
  double tokenize_seconds = 0;  // the tokenizing pass, writing scratch files included
  double total_seconds = 0;

  nlohmann::json to_json() const;
  std::string to_text() const;  // the closing report printed by `loom prepare`
};

enum class ProgressOutput { automatic, bar, lines, none };

struct PrepareOptions {
  bool overwrite = false;  // replace an existing store (--force)
  ProgressOutput progress = ProgressOutput::automatic;
};

// Prepares `config.prepare.inputs` into `config.data.store`. Throws
// loom::UsageError for a config that cannot work, CorpusError for unreadable
// input and StoreError when the store exists (without overwrite) or cannot
// be written; in every case no file appears under the store's name.
PrepareReport prepare_corpus(const config::Config& config, const PrepareOptions& options);

}  // namespace loom::data_tools
