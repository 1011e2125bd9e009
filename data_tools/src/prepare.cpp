// `loom prepare`: the orchestration. The passes live in tokenizer_pass.cpp and
// encode_pass.cpp; this file checks the request, runs them, handles corpora
// too small to split by document, and writes the report into the store.
#include "loom/data_tools/prepare.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "corpus_passes.hpp"
#include <fmt/format.h>
#include <zlib.h>

#include "loom/core/log.hpp"
#include "loom/data/token_store.hpp"

namespace loom::data_tools {
namespace {

namespace fs = std::filesystem;

std::uint32_t crc32_of_file(const fs::path& path, std::uint32_t crc) {
  std::ifstream file(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<uInt>(file.gcount());
    if (got == 0) break;
    crc = static_cast<std::uint32_t>(
        ::crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), got));
  }
  return crc;
}

// A folder input (a Discord package) is summed over its files in path order.
data::SourceFile describe_source(const InputFile& input) {
  data::SourceFile source{input.path, input.bytes, 0};
  if (!fs::is_directory(input.path)) {
    source.crc32 = crc32_of_file(input.path, 0);
    return source;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(input.path)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files)
    source.crc32 = crc32_of_file(file, source.crc32);
  return source;
}

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
  writer.move_train_tail_to_val(tail);
  // Characters follow tokens proportionally: exact for char and byte tokenizers.
  const auto moved_chars = static_cast<std::uint64_t>(static_cast<double>(totals.train.characters) *
                                                      static_cast<double>(tail) /
                                                      static_cast<double>(totals.train.tokens));
  totals.train.tokens -= tail;
  totals.train.characters -= moved_chars;
  totals.val = SplitCounts{1, moved_chars, tail};
  return fmt::format(
      "the corpus has {} document{} and none went to val: its last {} tokens ({:.0f}%) became "
      "the val split, cut at a token boundary",
      totals.train.documents, totals.train.documents == 1 ? "" : "s", tail,
      prepare.val_fraction * 100);
}

}  // namespace

PrepareReport prepare_corpus(const config::Config& config, const PrepareOptions& options) {
  const config::PrepareConfig& prepare = config.prepare;
  const std::string& store = config.data.store;
  if (prepare.inputs.empty()) {
    throw UsageError(
        "prepare.inputs is empty: name the corpus files, folders or globs, e.g. "
        "--set prepare.inputs=corpus.txt");
  }
  if (!options.overwrite && fs::exists(store)) {
    throw data::StoreError(fmt::format("{} already exists; pass --force to replace it", store));
  }

  // Made before the first pass, so a bad path fails in a second, not after it.
  const fs::path folder = fs::path(store).parent_path();
  std::error_code made;
  if (!folder.empty()) fs::create_directories(folder, made);
  if (made) {
    throw data::StoreError(
        fmt::format("{}: cannot create the folder {}: {}", store, folder.string(), made.message()));
  }

  Progress timer("prepare", 0, Progress::Style::silent);
  const std::vector<InputFile> inputs =
      resolve_inputs(prepare.inputs, config::enum_name(prepare.format));
  PrepareReport report;
  report.store_path = store;
  report.input_files = inputs.size();
  for (const InputFile& input : inputs)
    report.input_bytes += input.bytes;
  report.threads = prepare.threads > 0 ? static_cast<int>(prepare.threads) : hardware_threads();

  const OpenChunks open_chunks = [&] {
    return std::make_unique<ChunkReader>(open_records(inputs, reader_options(prepare)),
                                         filter_options(prepare));
  };
  const Progress::Style style = style_of(options.progress);
  ThreadPool pool(report.threads);

  const std::unique_ptr<text::Tokenizer> tokenizer =
      build_tokenizer(prepare, open_chunks, pool, style, report.input_bytes);
  report.tokenizer = tokenizer->kind();
  report.vocab_size = tokenizer->vocab_size();
  report.vocab_seconds = timer.seconds();

  data::TokenStoreWriter writer(store, tokenizer->vocab_size(), options.overwrite);
  const std::unique_ptr<ChunkReader> chunks = open_chunks();
  Progress progress("tokenizing", report.input_bytes, style);
  EncodeTotals totals = encode_corpus(*chunks, *tokenizer, prepare, writer, pool, progress);
  report.tokenize_seconds = progress.seconds();
  if (totals.train.tokens == 0) {
    throw UsageError(fmt::format("prepare: no text left in {} after cleaning; nothing to write",
                                 fmt::join(prepare.inputs, ", ")));
  }
  report.split_note = ensure_val_split(prepare, writer, totals);
  report.train = totals.train;
  report.val = totals.val;
  report.unknown_tokens = totals.stats.unknown;
  report.invalid_utf8 = totals.stats.invalid_utf8;
  report.filters = chunks->filter().counts();

  data::StoreMetadata metadata;
  metadata.vocab_size = tokenizer->vocab_size();
  metadata.tokenizer_json = tokenizer->to_json().dump();
  for (const InputFile& input : inputs)
    metadata.sources.push_back(describe_source(input));
  nlohmann::json filters = chunks->filter().options_json();
  filters["counts"] = report.filters.to_json();
  metadata.filters_json = filters.dump();
  report.total_seconds = timer.seconds();
  metadata.report_json = report.to_json().dump();
  writer.commit(std::move(metadata));
  report.total_seconds = timer.seconds();
  return report;
}

}  // namespace loom::data_tools
