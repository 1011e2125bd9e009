// The HDF5 half of opening a token store: everything the reader needs to
// know from HDF5, asked once, before the file is mapped and HDF5 is left
// behind. It checks that the file is a Loom store of a format this build
// reads, and that each dataset's bytes lie raw in the file where a mapping
// can use them.
#pragma once

#include <cstdint>
#include <string>

#include "loom/data/token_store.hpp"

namespace loom::data::store_detail {

// Where one dataset's values lie in the file.
struct DatasetExtent {
  std::uint64_t offset = 0;  // byte offset in the file; meaningless when count is 0
  std::uint64_t count = 0;   // number of values
};

struct SplitExtents {
  DatasetExtent tokens;       // of the store's dtype
  DatasetExtent doc_offsets;  // uint64
};

struct StoreContents {
  StoreMetadata metadata;
  SplitExtents splits[2];  // indexed by Split
};

// Throws StoreError naming `path` for: not HDF5; truncated (as HDF5 sees
// it); a newer format_version; a missing dataset or attribute; a dtype that
// disagrees with vocab_size; tokenizer, filters or report attributes that
// check_json_attributes refuses; a dataset that is not 1-D, unsigned,
// little-endian, of the expected width, contiguous, unfiltered and
// allocated.
StoreContents inspect_store(const std::string& path);

}  // namespace loom::data::store_detail
