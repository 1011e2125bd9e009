// What a token store file contains, by name: its datasets and root
// attributes (token_store.hpp describes the layout), and the encodings of
// the metadata fields that are not plain strings. The writer and the reader
// both spell the format through here, so they cannot drift apart.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "loom/data/split_view.hpp"
#include "loom/data/token_store.hpp"

namespace loom::data::store_detail {

// Root attributes.
inline constexpr const char* kFormatVersionAttribute = "format_version";
inline constexpr const char* kVocabSizeAttribute = "vocab_size";
inline constexpr const char* kDtypeAttribute = "dtype";
inline constexpr const char* kTokenizerAttribute = "tokenizer";
inline constexpr const char* kSourcesAttribute = "sources";
inline constexpr const char* kFiltersAttribute = "filters";
inline constexpr const char* kReportAttribute = "report";
inline constexpr const char* kCreatedAttribute = "created";
// Optional: absent in stores written before it.
inline constexpr const char* kChecksumsAttribute = "checksums";

// Every dataset starts at a file offset that is a multiple of this, so a
// mapping (page-aligned) gives aligned uint16, uint32 and uint64 values.
inline constexpr std::size_t kDatasetAlignment = 8;

inline std::string tokens_dataset(Split split) {
  return std::string("/") + split_name(split) + "/tokens";
}
inline std::string doc_offsets_dataset(Split split) {
  return std::string("/") + split_name(split) + "/doc_offsets";
}

// "uint8" -> TokenDtype::u8, ...; nullopt for any other name.
std::optional<TokenDtype> dtype_from_name(const std::string& name);

// The sources attribute: a JSON list of {"name", "bytes", "crc32"}.
std::string sources_to_json(const std::vector<SourceFile>& sources);
// Throws StoreError naming `file` when `json` is not such a list.
std::vector<SourceFile> sources_from_json(const std::string& json, const std::string& file);

// The checksums attribute: a JSON list of {"dataset", "bytes", "crc32"}.
std::string checksums_to_json(const std::vector<DatasetChecksum>& checksums);
// Throws StoreError naming `file` when `json` is not such a list.
std::vector<DatasetChecksum> checksums_from_json(const std::string& json, const std::string& file);

// The attributes kept as JSON text given by the caller (tokenizer, filters,
// report): each must parse, and the tokenizer's must be an object with a
// string "kind" and an integer "vocab_size" equal to metadata.vocab_size.
// The writer checks before writing and the reader on opening, so a store
// whose metadata cannot be used later is refused with a message naming
// `file` rather than failing in whoever parses it.
void check_json_attributes(const StoreMetadata& metadata, const std::string& file);

// The current time as ISO 8601 UTC, e.g. "2024-05-01T12:34:56Z".
std::string utc_now_iso8601();

}  // namespace loom::data::store_detail
