// A token store's datasets against the CRC-32s its writer recorded
// (token_store.hpp, attribute checksums), each read in full as a stream in
// constant memory. The reader, which opens stores for training, only
// samples them: reading a multi-GB corpus in full belongs to `loom verify`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace loom::data {

struct DatasetCheck {
  std::string dataset;  // "/train/tokens"
  std::uint64_t bytes = 0;
  // Empty when it matches; otherwise what does not, e.g. "does not match
  // its checksum (crc32 1a2b3c4d recorded, 9f8e7d6c read)".
  std::string problem;
};

struct StoreCheck {
  bool has_checksums = false;  // false: a store written before Loom recorded them
  std::vector<DatasetCheck>
      datasets;  // every dataset, in the store's order; none without checksums
  std::uint64_t bytes_read = 0;
};

// Throws StoreError naming `path` when it is not a readable Loom store
// (what TokenStoreReader refuses at the HDF5 level), or when its checksums
// do not name each of its datasets once.
StoreCheck verify_store(const std::string& path);

}  // namespace loom::data
