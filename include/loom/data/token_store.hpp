// The token store: one HDF5 file holding a prepared corpus, written once by
// `loom prepare` and memory-mapped by every reader.
//
// Layout (format version 1), readable by h5py:
//   /train/tokens, /val/tokens          1-D, contiguous, unfiltered, little-endian
//                                       uint8 | uint16 | uint32 (by vocab size)
//   /train/doc_offsets, /val/doc_offsets  1-D uint64: the token offset where each
//                                       document starts, ascending, first 0
//                                       (strictly ascending and below the
//                                       token count: no document is empty)
//   root attributes: format_version (uint32), vocab_size (uint32), dtype
//   (string), tokenizer (JSON string), sources (JSON string: [{name, bytes,
//   crc32}]), filters (JSON string), report (JSON string), created (ISO 8601
//   UTC string), checksums (JSON string: [{dataset, bytes, crc32}], the
//   CRC-32 of each dataset's bytes as stored; optional: stores written
//   before it have none, and `loom verify` says so)
//
// Writing goes to NAME.h5.tmp, which is renamed to NAME.h5 only when
// complete; an existing store is never replaced unless asked. Reading opens
// with HDF5 once, checks everything a mapping depends on, then maps the
// datasets' bytes directly (no HDF5 calls after open, so loader threads can
// read freely).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/data/split_view.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::data {

inline constexpr std::uint32_t kStoreFormatVersion = 1;

struct SourceFile {
  std::string name;  // path as given to prepare
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;  // of the file's bytes as stored (compressed if it was)
};

// The CRC-32 (core/checksum.hpp) of one dataset's bytes as stored, taken
// by the writer as it streams them in.
struct DatasetChecksum {
  std::string dataset;  // "/train/tokens"
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

struct StoreMetadata {
  std::uint32_t format_version = kStoreFormatVersion;
  std::uint32_t vocab_size = 0;
  TokenDtype dtype = TokenDtype::u16;  // set by the writer from vocab_size
  std::string tokenizer_json;
  std::vector<SourceFile> sources;
  std::string filters_json = "{}";  // what cleaning prepare applied, and what it removed
  std::string report_json = "{}";   // prepare's closing report
  std::string created;              // set by the writer when empty
  // Set by the writer; empty in a store written before Loom recorded them.
  std::vector<DatasetChecksum> checksums;
};

// A bad, foreign, truncated or newer store; the message names the file and
// what is wrong with it.
class StoreError : public Error {
 public:
  using Error::Error;
};

// Picks TokenStoreWriter's constructor for ids that are not final yet.
struct ProvisionalIds {};
inline constexpr ProvisionalIds kProvisionalIds{};

class TokenStoreWriter {
 public:
  // Throws StoreError if `path` exists and `overwrite` is false, or if its
  // folder cannot be written. Nothing appears under `path` before commit().
  // Scratch space (about the corpus's token bytes plus 8 per document) is
  // taken in the folder by files that are unlinked as soon as they are
  // created, so the kernel frees it however the process ends.
  TokenStoreWriter(std::string path, std::uint32_t vocab_size, bool overwrite);
  // For a vocabulary that is known only once every token is in (the char
  // tokenizer's single pass in `prepare`): the ids appended are provisional,
  // of any value, kept as narrow as the largest one so far allows (the
  // scratch files are rewritten wider when a larger one comes), and
  // commit(metadata, final_ids) maps each to its final id.
  TokenStoreWriter(std::string path, ProvisionalIds, bool overwrite);
  // Without commit(): removes every temporary file it made.
  ~TokenStoreWriter();
  TokenStoreWriter(const TokenStoreWriter&) = delete;
  TokenStoreWriter& operator=(const TokenStoreWriter&) = delete;

  // Tokens appended after this belong to a new document of `split`. A
  // document is recorded with its first token, so one that never gets a
  // token leaves no trace.
  void begin_document(Split split);
  // Ids must be < vocab_size (checked; StoreError otherwise, and nothing of
  // the call is appended), unless they are provisional. Appending to a split
  // with no document begun starts one.
  void append(Split split, const text::TokenId* ids, std::size_t count);

  std::uint64_t tokens(Split split) const;
  std::uint64_t documents(Split split) const;

  // For a corpus of one document: moves the last `count` train tokens into
  // val as one document, so validation still measures unseen text. Train
  // documents that started inside the moved tail are gone; the one cut
  // short keeps its start. StoreError if train has fewer than `count`.
  void move_train_tail_to_val(std::uint64_t count);

  // Writes NAME.h5.tmp, fsyncs it, renames it to NAME.h5 (and fsyncs the
  // folder). Memory stays constant: tokens are copied in fixed-size blocks.
  // The writer fills in format_version, vocab_size and dtype itself, and
  // created (now, UTC) when it is empty. Throws StoreError if NAME.h5 has
  // appeared meanwhile and `overwrite` was false, or when called twice;
  // the writer takes no tokens after it. Throws StoreError before writing
  // anything when tokenizer_json, filters_json or report_json is not JSON,
  // or tokenizer_json is not an object with a string "kind" and an integer
  // "vocab_size" equal to the writer's: the reader would refuse the store.
  // Source names that are not UTF-8 are stored with U+FFFD for bad bytes.
  // StoreError for a writer of provisional ids.
  void commit(StoreMetadata metadata);
  // The same for a writer of provisional ids: each stored id `i` is written
  // as final_ids[i], and the store's vocab_size (and so its dtype) is
  // metadata.vocab_size. Throws StoreError before writing anything when a
  // stored id has no entry in final_ids, a final id is not below
  // metadata.vocab_size, or the writer's ids are final already.
  void commit(StoreMetadata metadata, const std::vector<text::TokenId>& final_ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class TokenStoreReader {
 public:
  // Opens, validates and maps `path`. Throws StoreError for: not a file or
  // not HDF5; missing datasets or attributes (a foreign file); a layout that
  // cannot be mapped (chunked, filtered, unallocated, big-endian); a dtype
  // that disagrees with vocab_size; a newer format_version; a file shorter
  // than its datasets (truncated); tokens >= vocab_size or bad doc offsets
  // in a sampled check; tokenizer, filters or report attributes that are
  // not JSON; tokenizer JSON without a string "kind" or whose integer
  // "vocab_size" differs from the vocab_size attribute.
  // Empty splits are legal: their view has size 0 and null pointers.
  explicit TokenStoreReader(const std::string& path);
  ~TokenStoreReader();
  TokenStoreReader(TokenStoreReader&&) noexcept;
  TokenStoreReader& operator=(TokenStoreReader&&) noexcept;

  const std::string& path() const;
  const StoreMetadata& metadata() const;
  SplitView split(Split split) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::data
