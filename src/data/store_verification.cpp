// Token store datasets against their recorded checksums; see
// store_verification.hpp.
#include "loom/data/store_verification.hpp"

#include <algorithm>

#include "store_inspect.hpp"
#include "store_layout.hpp"
#include <fmt/format.h>

#include "loom/core/checksum.hpp"
#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using store_detail::DatasetExtent;

struct Dataset {
  std::string name;
  DatasetExtent extent;
  std::size_t width;
};

std::vector<Dataset> datasets_of(const store_detail::StoreContents& contents) {
  std::vector<Dataset> datasets;
  for (Split split : {Split::train, Split::val}) {
    const store_detail::SplitExtents& extents = contents.splits[static_cast<int>(split)];
    datasets.push_back({store_detail::tokens_dataset(split), extents.tokens,
                        dtype_bytes(contents.metadata.dtype)});
    datasets.push_back(
        {store_detail::doc_offsets_dataset(split), extents.doc_offsets, sizeof(std::uint64_t)});
  }
  return datasets;
}

const DatasetChecksum& recorded_checksum(const StoreMetadata& metadata, const std::string& dataset,
                                         const std::string& path) {
  const auto named = [&](const DatasetChecksum& c) { return c.dataset == dataset; };
  const auto found = std::find_if(metadata.checksums.begin(), metadata.checksums.end(), named);
  if (found == metadata.checksums.end() ||
      std::count_if(metadata.checksums.begin(), metadata.checksums.end(), named) != 1) {
    throw StoreError(
        fmt::format("{}: attribute {} should name {} once; it names it {} times", path,
                    store_detail::kChecksumsAttribute, dataset,
                    std::count_if(metadata.checksums.begin(), metadata.checksums.end(), named)));
  }
  return *found;
}

DatasetCheck check_dataset(const std::string& path, const Dataset& dataset,
                           const DatasetChecksum& recorded) {
  DatasetCheck check{dataset.name, dataset.extent.count * dataset.width, ""};
  if (check.bytes != recorded.bytes) {
    check.problem = fmt::format("has {} bytes, {} recorded", check.bytes, recorded.bytes);
    return check;
  }
  std::uint32_t crc32 = 0;  // of no bytes: an empty split has no offset to read at
  if (check.bytes > 0) {
    try {
      crc32 = checksum_file(path, dataset.extent.offset, check.bytes).crc32;
    } catch (const Error& e) {
      check.problem = fmt::format("cannot be read: {}", e.what());
      return check;
    }
  }
  if (crc32 != recorded.crc32) {
    check.problem = fmt::format("does not match its checksum (crc32 {} recorded, {} read)",
                                crc32_hex(recorded.crc32), crc32_hex(crc32));
  }
  return check;
}

}  // namespace

StoreCheck verify_store(const std::string& path) {
  const store_detail::StoreContents contents = store_detail::inspect_store(path);
  StoreCheck result;
  result.has_checksums = !contents.metadata.checksums.empty();
  if (!result.has_checksums) return result;
  for (const Dataset& dataset : datasets_of(contents)) {
    const DatasetChecksum& recorded = recorded_checksum(contents.metadata, dataset.name, path);
    DatasetCheck check = check_dataset(path, dataset, recorded);
    if (check.problem.empty()) result.bytes_read += check.bytes;
    result.datasets.push_back(std::move(check));
  }
  return result;
}

}  // namespace loom::data
