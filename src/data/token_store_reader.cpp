// TokenStoreReader: maps the store file once and points each split's view
// straight at its datasets' bytes. All HDF5 work (store_inspect.cpp) happens
// in the constructor; afterwards reading tokens is plain memory access, so
// any number of loader threads can read without HDF5's global lock.
//
// Before handing the views out it checks what a mapping relies on (each
// dataset lies inside the file, aligned for its type) and samples the
// content: the document starts (all of them up to 4Mi documents, evenly
// spaced runs of them beyond), and 64Ki tokens in 256 evenly spaced runs
// from the first token to the last, against vocab_size. A corrupt store
// fails here, with a message, not later in a loader thread.
#include <filesystem>

#include "store_inspect.hpp"
#include "store_layout.hpp"
#include "store_mapped_file.hpp"
#include <fmt/format.h>

#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using store_detail::DatasetExtent;
using store_detail::MappedFile;

// How much of each split the constructor reads back. Samples are runs of
// consecutive values, so a cold open costs a few hundred page faults rather
// than one per sampled value.
struct Sampling {
  std::uint64_t runs;
  std::uint64_t run_length;
};
constexpr Sampling kTokenSampling{256, 256};       // 64Ki tokens
constexpr Sampling kDocStartSampling{1024, 4096};  // 4Mi document starts

// Calls visit(i) for every i in [0, count) when that is no more than the
// sampling covers; otherwise for `runs` evenly spaced runs of `run_length`
// consecutive positions, the first starting at 0 and the last ending at
// count - 1.
template <class Visit>
void for_each_sampled(std::uint64_t count, Sampling sampling, Visit visit) {
  if (count <= sampling.runs * sampling.run_length) {
    for (std::uint64_t i = 0; i < count; ++i)
      visit(i);
    return;
  }
  const std::uint64_t stride = (count - sampling.run_length) / (sampling.runs - 1);
  for (std::uint64_t run = 0; run < sampling.runs; ++run) {
    const std::uint64_t start =
        run + 1 < sampling.runs ? run * stride : count - sampling.run_length;
    for (std::uint64_t i = start; i < start + sampling.run_length; ++i)
      visit(i);
  }
}

// Where a dataset's values start in the mapping; nullptr when it is empty.
const void* locate(const MappedFile& mapping, const DatasetExtent& extent, std::size_t width,
                   const std::string& name, const std::string& path) {
  if (extent.count == 0) return nullptr;
  const std::uint64_t file_size = mapping.size();
  if (extent.offset > file_size || extent.count > (file_size - extent.offset) / width) {
    throw StoreError(fmt::format("{}: truncated: {} ends at byte {}, but the file has {} bytes",
                                 path, name, extent.offset + extent.count * width, file_size));
  }
  if (extent.offset % width != 0) {
    throw StoreError(
        fmt::format("{}: {} starts at byte {}, not a multiple of {}, so it cannot be memory-mapped",
                    path, name, extent.offset, width));
  }
  return mapping.data() + extent.offset;
}

void check_doc_starts(const SplitView& view, Split split, const std::string& path) {
  const std::string name = store_detail::doc_offsets_dataset(split);
  if (view.size > 0 && view.num_docs == 0) {
    throw StoreError(
        fmt::format("{}: /{} has {} tokens but no documents", path, split_name(split), view.size));
  }
  for_each_sampled(view.num_docs, kDocStartSampling, [&](std::uint64_t doc) {
    const std::uint64_t start = view.doc_starts[doc];
    if (doc == 0 && start != 0) {
      throw StoreError(
          fmt::format("{}: {}[0] is {}; the first document must start at 0", path, name, start));
    }
    if (doc > 0 && start <= view.doc_starts[doc - 1]) {
      throw StoreError(fmt::format("{}: {}[{}] = {} does not ascend from {}[{}] = {}", path, name,
                                   doc, start, name, doc - 1, view.doc_starts[doc - 1]));
    }
    if (start >= view.size) {
      throw StoreError(fmt::format("{}: {}[{}] = {} is past the last of {}'s {} tokens", path, name,
                                   doc, start, split_name(split), view.size));
    }
  });
}

void check_token_sample(const SplitView& view, Split split, std::uint32_t vocab_size,
                        const std::string& path) {
  for_each_sampled(view.size, kTokenSampling, [&](std::uint64_t index) {
    const text::TokenId id = view.at(index);
    if (id >= vocab_size) {
      throw StoreError(fmt::format("{}: {}[{}] = {} is not below vocab_size {}", path,
                                   store_detail::tokens_dataset(split), index, id, vocab_size));
    }
  });
}

}  // namespace

struct TokenStoreReader::Impl {
  std::string path;
  StoreMetadata metadata;
  MappedFile mapping;
  SplitView splits[2];  // indexed by Split
};

TokenStoreReader::TokenStoreReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& reader = *impl_;
  reader.path = path;
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) throw StoreError(fmt::format("{}: no such file", path));
  if (!std::filesystem::is_regular_file(status)) {
    throw StoreError(fmt::format("{}: not a regular file", path));
  }

  // Mapped first and compared after: the offsets HDF5 reports must belong
  // to the very file mapped, even if a new store is renamed over `path`.
  reader.mapping = MappedFile(path);
  store_detail::StoreContents contents = store_detail::inspect_store(path);
  if (!reader.mapping.is_file_at(path)) {
    throw StoreError(fmt::format("{}: replaced by another file while being opened", path));
  }
  reader.metadata = std::move(contents.metadata);

  const TokenDtype dtype = reader.metadata.dtype;
  for (Split split : {Split::train, Split::val}) {
    const store_detail::SplitExtents& extents = contents.splits[static_cast<int>(split)];
    SplitView& view = reader.splits[static_cast<int>(split)];
    view.dtype = dtype;
    view.tokens = locate(reader.mapping, extents.tokens, dtype_bytes(dtype),
                         store_detail::tokens_dataset(split), path);
    view.size = extents.tokens.count;
    view.doc_starts = static_cast<const std::uint64_t*>(
        locate(reader.mapping, extents.doc_offsets, sizeof(std::uint64_t),
               store_detail::doc_offsets_dataset(split), path));
    view.num_docs = extents.doc_offsets.count;
    check_doc_starts(view, split, path);
    check_token_sample(view, split, reader.metadata.vocab_size, path);
  }
}

TokenStoreReader::~TokenStoreReader() = default;
TokenStoreReader::TokenStoreReader(TokenStoreReader&&) noexcept = default;
TokenStoreReader& TokenStoreReader::operator=(TokenStoreReader&&) noexcept = default;

const std::string& TokenStoreReader::path() const {
  return impl_->path;
}
const StoreMetadata& TokenStoreReader::metadata() const {
  return impl_->metadata;
}
SplitView TokenStoreReader::split(Split split) const {
  return impl_->splits[static_cast<int>(split)];
}

}  // namespace loom::data
