// Tokenizers turn text into token ids and back. Every kind (char, byte,
// SentencePiece bpe/unigram) shares this interface and the same four special
// tokens at ids 0-3, and saves itself as JSON, which the token store and
// every run directory keep so a model is always decoded as it was trained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::text {

using TokenId = std::uint32_t;

// Reserved ids, identical in every tokenizer.
inline constexpr TokenId kPadId = 0;  // fills windows shorter than block_size; ignored by the loss
inline constexpr TokenId kUnkId = 1;  // anything outside the vocabulary
inline constexpr TokenId kBosId = 2;  // beginning of a sequence (prompts may start with it)
inline constexpr TokenId kEosId = 3;  // end of a document: appended after each one by prepare
inline constexpr TokenId kNumSpecialTokens = 4;
// Their text form, as decode() and piece() show them.
inline constexpr const char* kSpecialTokenNames[kNumSpecialTokens] = {"<pad>", "<unk>", "<bos>",
                                                                      "<eos>"};

// What encoding saw, summed by prepare into its closing report.
struct EncodeStats {
  std::uint64_t characters = 0;    // Unicode code points read (bytes, for the byte tokenizer)
  std::uint64_t unknown = 0;       // tokens emitted as <unk>
  std::uint64_t invalid_utf8 = 0;  // malformed UTF-8 sequences, each read as U+FFFD

  void add(const EncodeStats& other) {
    characters += other.characters;
    unknown += other.unknown;
    invalid_utf8 += other.invalid_utf8;
  }
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "char", "byte", "bpe" or "unigram".
  virtual std::string kind() const = 0;
  // Number of ids, specials included: every id is < vocab_size().
  virtual std::uint32_t vocab_size() const = 0;

  // Appends the ids of `text` to `out`. Safe to call from several threads at
  // once. Char and byte tokenizers give the same ids however a text is cut
  // into calls (at UTF-8 character boundaries); SentencePiece ones should be
  // given text cut at line ends. Never emits <bos>/<eos>/<pad>: the text
  // "<eos>" is five ordinary characters.
  virtual void encode(std::string_view text, std::vector<TokenId>& out,
                      EncodeStats* stats = nullptr) const = 0;

  // The text of the ids. <pad> is skipped; <unk>, <bos> and <eos> appear
  // as their names unless `skip_special` is set. Ids >= vocab_size() throw
  // loom::Error.
  virtual std::string decode(const TokenId* ids, std::size_t count,
                             bool skip_special = false) const = 0;
  std::string decode(const std::vector<TokenId>& ids, bool skip_special = false) const {
    return decode(ids.data(), ids.size(), skip_special);
  }

  // One token's text for display (`loom inspect`), e.g. "a", "\n", "<eos>".
  virtual std::string piece(TokenId id) const = 0;

  // Everything needed to rebuild this tokenizer: {"kind": ..., ...}.
  virtual nlohmann::json to_json() const = 0;
};

// Rebuilds any kind of tokenizer from to_json()'s output. Throws loom::Error
// naming what is wrong ("tokenizer JSON: unknown kind 'foo'", ...).
std::unique_ptr<Tokenizer> tokenizer_from_json(const nlohmann::json& json);

// The byte tokenizer: ids 4..259 are the 256 byte values. Works on any
// input; nothing is unknown.
std::unique_ptr<Tokenizer> make_byte_tokenizer();

// --- char: a vocabulary of Unicode code points, built by streaming ---------

struct CharVocabOptions {
  std::uint64_t min_count = 1;  // code points seen fewer times become <unk>
  std::uint32_t max_vocab = 0;  // cap on the vocabulary, specials included; 0 = no cap
};

// Counts code points over any number of add() calls in constant memory (one
// counter per distinct code point). Invalid UTF-8 is counted as U+FFFD, the
// same policy encode() follows, so the vocabulary and the encoding agree.
class CharVocabBuilder {
 public:
  void add(std::string_view text);
  // `count` more of one code point (a Unicode scalar value), counted elsewhere.
  void add(char32_t code_point, std::uint64_t count);
  void merge(const CharVocabBuilder& other);  // for counting on several threads
  std::uint64_t characters() const;
  std::uint64_t distinct() const;

  // Keeps code points with count >= min_count, then the max_vocab - 4 most
  // frequent (ties to the lower code point); ids follow in code point order
  // after the specials, so the same corpus always gives the same ids.
  std::unique_ptr<Tokenizer> build(const CharVocabOptions& options) const;

 private:
  void count_supplementary(char32_t code_point, std::uint64_t count);

  // Counts by code point: a flat table for the Basic Multilingual Plane,
  // where nearly all text lives, so counting costs one increment; a sorted
  // list for the planes above (emoji, rare scripts).
  std::vector<std::uint64_t> bmp_counts_ = std::vector<std::uint64_t>(0x10000, 0);
  std::vector<std::pair<char32_t, std::uint64_t>> supplementary_counts_;
  std::uint64_t characters_ = 0;
};

// --- char in one pass: provisional ids, made final at the end -------------

// Encodes text for a char tokenizer whose vocabulary is not known yet, so
// that `prepare` reads a corpus once: each code point gets a provisional id
// the first time any thread meets it (kNumSpecialTokens, then up, in order of
// first appearance; ids below stay the specials'). With the whole corpus
// encoded and each provisional id's count, finish() builds the tokenizer that
// CharVocabBuilder would build from the same text and maps every provisional
// id to the id that tokenizer gives the character, so the remapped ids are
// exactly what encoding with it would have given. Memory: one id for each
// possible code point (4.5 MB), however large the corpus.
class ProvisionalCharIds {
 public:
  ProvisionalCharIds();
  ~ProvisionalCharIds();
  ProvisionalCharIds(const ProvisionalCharIds&) = delete;
  ProvisionalCharIds& operator=(const ProvisionalCharIds&) = delete;

  // Like Tokenizer::encode, and safe to call from several threads at once;
  // stats gets characters and invalid_utf8, not unknown: which characters
  // become <unk> is known only at finish().
  void encode(std::string_view text, std::vector<TokenId>& out, EncodeStats* stats = nullptr);
  // Every provisional id given so far is below this: kNumSpecialTokens plus
  // the characters met.
  TokenId id_bound() const;

  struct Vocabulary {
    std::unique_ptr<Tokenizer> tokenizer;
    std::vector<TokenId> final_ids;  // by provisional id; the specials map to themselves
    std::uint64_t unknown = 0;       // occurrences of the characters left out, now <unk>
  };
  // `counts[id]`: how often encode() gave provisional id `id` (missing
  // entries count 0). Call once every encode() has returned.
  Vocabulary finish(const std::vector<std::uint64_t>& counts,
                    const CharVocabOptions& options) const;

 private:
  TokenId assign(char32_t code_point);

  struct Table;
  std::unique_ptr<Table> table_;
};

// --- bpe / unigram through SentencePiece ------------------------------------

struct SentencePieceOptions {
  std::string model_type = "bpe";      // "bpe" or "unigram"
  std::uint32_t vocab_size = 8000;     // specials included
  double character_coverage = 0.9995;  // share of characters the vocabulary must cover
  std::uint64_t seed = 1337;
  // Characters outside the vocabulary become their UTF-8 bytes instead of
  // <unk>. The 256 byte pieces take ids, so vocab_size must exceed 261
  // (specials, newline, bytes) plus the sample's common characters.
  bool byte_fallback = true;
};

// Trains on a bounded sample of the corpus (one string per line or
// paragraph), entirely in memory, deterministically for a given sample.
// Text is kept exactly as it is (no normalization, every space kept), so
// decode(encode(text)) == text for valid UTF-8 whose characters the
// vocabulary or byte_fallback covers, except that U+2581, SentencePiece's
// space mark, comes back as a space. A newline is always a piece of its own.
// Throws loom::UsageError for options that cannot work and loom::Error when
// SentencePiece refuses (e.g. vocab_size too large for the sample).
std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::string>& sample,
                                               const SentencePieceOptions& options);

// The serialized SentencePiece model (a ModelProto) that a bpe or unigram
// tokenizer's to_json() carries, for tools that convert it rather than load
// it (the Hugging Face export). Throws loom::Error when `json` has no
// "model" string or it is not base64.
std::string sentencepiece_model_of(const nlohmann::json& json);

}  // namespace loom::text
