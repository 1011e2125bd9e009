// `loom prepare`: the orchestration. The passes live in tokenizer_pass.cpp and
// encode_pass.cpp; this file checks the request, runs them (one for `char`,
// two for the others), handles corpora too small to split by document, and
// writes the report into the store.
#include "loom/data_tools/prepare.hpp"

#include <algorithm>
#include <filesystem>

#include "corpus_passes.hpp"
#include "source_digest.hpp"
#include <fmt/format.h>

#include "loom/core/launch_env.hpp"
#include "loom/core/log.hpp"
#include "loom/data/token_store.hpp"

namespace loom::data_tools {
namespace {

namespace fs = std::filesystem;

Progress::Style style_of(ProgressOutput output) {
  switch (output) {
    case ProgressOutput::bar:
      return Progress::Style::bar;
    case ProgressOutput::lines:
      return Progress::Style::lines;
    case ProgressOutput::none:
      return Progress::Style::silent;
    case ProgressOutput::automatic:
      break;
  }
  return Progress::default_style();
}

FilterOptions filter_options(const config::PrepareConfig& p) {
  FilterOptions options;
  options.drop_urls = p.drop_urls;
  options.drop_mentions = p.drop_mentions;
  options.drop_code_blocks = p.drop_code_blocks;
  options.min_chars = static_cast<std::uint64_t>(p.min_chars);
  options.drop_empty = p.drop_empty;
  options.dedup = p.dedup;
  options.lowercase = p.lowercase;
  options.nfc = p.nfc;
  return options;
}

ReaderOptions reader_options(const config::PrepareConfig& p) {
  ReaderOptions options;
  options.separator = p.separator;
  options.jsonl_field = p.jsonl_field;
  options.author_prefix = p.author_prefix;
  return options;
}

// Validation needs unseen text even when the corpus is one document (or a
// few that all hashed to train): then the tail of train becomes val.
std::string ensure_val_split(const config::PrepareConfig& prepare, data::TokenStoreWriter& writer,
                             EncodeTotals& totals) {
  if (prepare.val_fraction <= 0 || totals.val.tokens > 0) return "";
  const std::uint64_t tail =
      static_cast<std::uint64_t>(static_cast<double>(totals.train.tokens) * prepare.val_fraction);
  if (tail == 0) return "";
  const std::uint64_t documents_before = totals.train.documents;
  writer.move_train_tail_to_val(tail);
  // Characters are moved in proportion to tokens: close, not exact (the
  // tail holds an <eos> that is no character, and BPE tokens vary in length).
  const auto moved_chars = static_cast<std::uint64_t>(static_cast<double>(totals.train.characters) *
                                                      static_cast<double>(tail) /
                                                      static_cast<double>(totals.train.tokens));
  totals.train =
      SplitCounts{writer.documents(data::Split::train), totals.train.characters - moved_chars,
                  writer.tokens(data::Split::train)};
  totals.val =
      SplitCounts{writer.documents(data::Split::val), moved_chars, writer.tokens(data::Split::val)};
  return fmt::format(
      "the corpus has {} document{} and none went to val: its last {} tokens ({:.0f}%) became "
      "the val split, cut at a token boundary",
      documents_before, documents_before == 1 ? "" : "s", tail, prepare.val_fraction * 100);
}

// The corpus tokenized into a writer that is not committed yet.
struct TokenizedCorpus {
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::unique_ptr<ChunkReader> chunks;  // what read the tokenized text: its filter counts
  std::unique_ptr<data::TokenStoreWriter> writer;
  EncodeTotals totals;
  // The final id of each provisional id the writer holds; empty when the
  // writer's ids are final already.
  std::vector<text::TokenId> final_ids;
};

// `char`: one read of the corpus. Characters get provisional ids as they are
// first met and are counted; the vocabulary, built from the counts once the
// corpus is read, gives each its final id, which the writer's commit writes.
TokenizedCorpus tokenize_chars_in_one_pass(const config::PrepareConfig& prepare,
                                           const std::string& store, bool overwrite,
                                           const OpenChunks& open_chunks, ThreadPool& pool,
                                           Progress::Style style, PrepareReport& report) {
  TokenizedCorpus corpus;
  corpus.writer = std::make_unique<data::TokenStoreWriter>(store, data::kProvisionalIds, overwrite);
  corpus.chunks = open_chunks();
  text::ProvisionalCharIds provisional;
  text::CharVocabOptions options;
  options.min_count = static_cast<std::uint64_t>(prepare.min_count);
  options.max_vocab = static_cast<std::uint32_t>(prepare.max_vocab);
  // Counts shape the vocabulary only when min_count or max_vocab can leave a
  // character out; otherwise it holds every character met, and counting each
  // of a corpus's billion ids would be work for nothing.
  const bool counts_matter = options.min_count > 1 || options.max_vocab != 0;
  std::vector<std::uint64_t> id_counts;
  Progress progress("tokenizing", report.input_bytes, style);
  corpus.totals = encode_corpus(*corpus.chunks, provisional, prepare, *corpus.writer, pool,
                                progress, counts_matter ? &id_counts : nullptr);
  report.tokenize_seconds = progress.seconds();
  if (corpus.totals.train.tokens == 0) return corpus;  // prepare refuses it; no vocabulary needed

  const Progress vocabulary_timer("vocabulary", 0, Progress::Style::silent);
  if (!counts_matter) id_counts.assign(provisional.id_bound(), 1);  // each was met at least once
  text::ProvisionalCharIds::Vocabulary vocabulary = provisional.finish(id_counts, options);
  corpus.tokenizer = std::move(vocabulary.tokenizer);
  corpus.final_ids = std::move(vocabulary.final_ids);
  corpus.totals.stats.unknown = vocabulary.unknown;
  report.vocab_seconds = vocabulary_timer.seconds();
  return corpus;
}

// `byte`, `bpe`, `unigram`: the tokenizer first (a pass over a sample for
// SentencePiece), then a pass that tokenizes with it.
TokenizedCorpus tokenize_in_two_passes(const config::PrepareConfig& prepare,
                                       const std::string& store, bool overwrite,
                                       const OpenChunks& open_chunks, ThreadPool& pool,
                                       Progress::Style style, PrepareReport& report) {
  TokenizedCorpus corpus;
  const Progress vocabulary_timer("vocabulary", 0, Progress::Style::silent);
  corpus.tokenizer = build_tokenizer(prepare, open_chunks, style, report.input_bytes);
  report.vocab_seconds = vocabulary_timer.seconds();
  corpus.writer =
      std::make_unique<data::TokenStoreWriter>(store, corpus.tokenizer->vocab_size(), overwrite);
  corpus.chunks = open_chunks();
  Progress progress("tokenizing", report.input_bytes, style);
  corpus.totals =
      encode_corpus(*corpus.chunks, *corpus.tokenizer, prepare, *corpus.writer, pool, progress);
  report.tokenize_seconds = progress.seconds();
  return corpus;
}

}  // namespace

void refuse_unread_corpus(const ChunkReader& chunks, const std::vector<std::string>& inputs) {
  if (chunks.filter().counts().records_in > 0) return;
  throw CorpusError(fmt::format(
      "prepare: found no text in {}: {} bytes read, but not one line, JSONL text or chat "
      "message (empty files, or separator lines alone); nothing to write",
      fmt::join(inputs, ", "), chunks.bytes_read()));
}

PrepareReport prepare_corpus(const config::Config& config, const PrepareOptions& options) {
  const config::PrepareConfig& prepare = config.prepare;
  const std::string& store = config.data.store;
  if (prepare.inputs.empty()) {
    throw UsageError(
        "prepare.inputs is empty: name the corpus files, folders or globs, e.g. "
        "--set prepare.inputs=corpus.txt");
  }
  if (const LaunchEnv launch = detect_launch_env(); launch.world_size > 1) {
    // Every rank would write the same temporary files: one process prepares.
    throw UsageError(fmt::format(
        "loom prepare runs as one process, but this is rank {} of {} (launched by {}): run it "
        "once, before launching training",
        launch.rank, launch.world_size, launcher_name(launch.launcher)));
  }
  if (!options.overwrite && fs::exists(store)) {
    throw data::StoreError(fmt::format("{} already exists; pass --force to replace it", store),
                           ExitCode::kUsage);
  }

  // Made before the corpus is read, so a bad path fails in a second, not after it.
  const fs::path folder = fs::path(store).parent_path();
  std::error_code made;
  if (!folder.empty()) fs::create_directories(folder, made);
  if (made) {
    throw data::StoreError(
        fmt::format("{}: cannot create the folder {}: {}", store, folder.string(), made.message()));
  }

  Progress timer("prepare", 0, Progress::Style::silent);
  const std::vector<InputFile> inputs =
      resolve_inputs(prepare.inputs, config::enum_name(prepare.format),
                     ExcludedPaths{{store}, {store + "."}});  // never read our own output
  PrepareReport report;
  report.store_path = store;
  report.input_files = inputs.size();
  for (const InputFile& input : inputs)
    report.input_bytes += input.bytes;
  // Summed beside the passes: a whole read of every input, which would
  // otherwise come first on the thread that reads the corpus, the one that
  // bounds a pass's speed.
  SourceDigest sources(inputs);
  report.threads = prepare.threads > 0 ? static_cast<int>(prepare.threads) : hardware_threads();

  const OpenChunks open_chunks = [&] {
    return std::make_unique<ChunkReader>(open_records(inputs, reader_options(prepare)),
                                         filter_options(prepare));
  };
  const Progress::Style style = style_of(options.progress);
  ThreadPool pool(report.threads);

  TokenizedCorpus corpus = prepare.tokenizer == config::TokenizerKind::char_level
                               ? tokenize_chars_in_one_pass(prepare, store, options.overwrite,
                                                            open_chunks, pool, style, report)
                               : tokenize_in_two_passes(prepare, store, options.overwrite,
                                                        open_chunks, pool, style, report);
  EncodeTotals& totals = corpus.totals;
  if (totals.train.tokens == 0) {
    refuse_unread_corpus(*corpus.chunks, prepare.inputs);
    throw Error(fmt::format("prepare: no text left in {} after cleaning; nothing to write",
                            fmt::join(prepare.inputs, ", ")));
  }
  const text::Tokenizer& tokenizer = *corpus.tokenizer;
  data::TokenStoreWriter& writer = *corpus.writer;
  const ChunkReader& chunks = *corpus.chunks;
  report.tokenizer = tokenizer.kind();
  report.vocab_size = tokenizer.vocab_size();
  report.split_note = ensure_val_split(prepare, writer, totals);
  report.train = totals.train;
  report.val = totals.val;
  report.unknown_tokens = totals.stats.unknown;
  report.invalid_utf8 = totals.stats.invalid_utf8;
  report.filters = chunks.filter().counts();

  data::StoreMetadata metadata;
  metadata.vocab_size = tokenizer.vocab_size();
  metadata.tokenizer_json = tokenizer.to_json().dump();
  metadata.sources = sources.get();
  nlohmann::json filters = chunks.filter().options_json();
  filters["counts"] = report.filters.to_json();
  // File names need not be UTF-8; JSON text must be (U+FFFD replaces the rest).
  constexpr auto kReplaceInvalid = nlohmann::json::error_handler_t::replace;
  metadata.filters_json = filters.dump(-1, ' ', false, kReplaceInvalid);
  report.total_seconds = timer.seconds();
  metadata.report_json = report.to_json().dump(-1, ' ', false, kReplaceInvalid);
  if (corpus.final_ids.empty()) {
    writer.commit(std::move(metadata));
  } else {
    writer.commit(std::move(metadata), corpus.final_ids);
  }
  report.total_seconds = timer.seconds();
  return report;
}

}  // namespace loom::data_tools
