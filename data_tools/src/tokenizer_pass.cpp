// The first pass of prepare, for the tokenizers that need one before
// tokenizing: SentencePiece's, trained on a sample of the corpus.
#include <string_view>

#include "corpus_passes.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::data_tools {
namespace {

// The first sample_mb MiB of cleaned text, one line per entry. A prefix
// rather than a random sample keeps the pass short on a huge corpus.
std::vector<std::string> sample_lines(const config::PrepareConfig& prepare, ChunkReader& chunks,
                                      Progress& progress) {
  const std::uint64_t budget = static_cast<std::uint64_t>(prepare.sample_mb) << 20;
  std::uint64_t taken = 0;
  std::vector<std::string> lines;
  TextChunk chunk;
  while (taken < budget && chunks.next(chunk)) {
    for (std::size_t i = 0; i < chunk.segments(); ++i) {
      std::string_view text = chunk.segment(i).text;
      while (!text.empty() && taken < budget) {
        const size_t end = std::min(text.find('\n'), text.size());
        if (end > 0) lines.emplace_back(text.substr(0, end));
        taken += end + 1;
        text.remove_prefix(std::min(end + 1, text.size()));
      }
    }
    progress.update(chunks.bytes_read());
  }
  progress.finish(chunks.bytes_read());
  return lines;
}

}  // namespace

std::unique_ptr<text::Tokenizer> build_tokenizer(const config::PrepareConfig& prepare,
                                                 const OpenChunks& open_chunks,
                                                 Progress::Style progress_style,
                                                 std::uint64_t total_bytes) {
  switch (prepare.tokenizer) {
    case config::TokenizerKind::byte:
      return text::make_byte_tokenizer();
    case config::TokenizerKind::char_level:
      // Its vocabulary is counted while tokenizing, by ProvisionalCharIds.
      throw Error("prepare: the char tokenizer is built in the tokenizing pass, not before it");
    case config::TokenizerKind::bpe:
    case config::TokenizerKind::unigram: {
      Progress progress("sampling for SentencePiece", total_bytes, progress_style);
      const std::unique_ptr<ChunkReader> chunks = open_chunks();
      const std::vector<std::string> sample = sample_lines(prepare, *chunks, progress);
      if (sample.empty()) {
        refuse_unread_corpus(*chunks, prepare.inputs);
        throw UsageError("prepare: the corpus has no text to train a tokenizer on");
      }
      text::SentencePieceOptions options;
      options.model_type = config::enum_name(prepare.tokenizer);
      options.vocab_size = static_cast<std::uint32_t>(prepare.vocab_size);
      options.seed = static_cast<std::uint64_t>(prepare.split_seed);
      return text::train_sentencepiece(sample, options);
    }
  }
  throw Error("prepare: unknown tokenizer kind");
}

}  // namespace loom::data_tools
