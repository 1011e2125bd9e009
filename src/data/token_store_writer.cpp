// TokenStoreWriter: streams each split's tokens and document starts into
// scratch files beside the target, so memory stays constant for any corpus
// size. They are created as NAME.h5.train.tmp, NAME.h5.train.docs.tmp (and
// the same for val) and unlinked at once, so even a killed run leaves none
// behind. At commit() it writes NAME.h5.tmp in one pass of fixed-size
// blocks, fsyncs it and renames it over NAME.h5: a reader sees the old
// store or the new one, never half of one. Provisional ids (a vocabulary
// known only at the end) are remapped to their final ids in that same copy.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "store_hdf5.hpp"
#include "store_layout.hpp"
#include "store_spill_file.hpp"
#include "store_token_ids.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "loom/core/checksum.hpp"
#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using store_detail::check;
using store_detail::checked;
using store_detail::convert_ids;
using store_detail::Hid;
using store_detail::SpillFile;
using store_detail::write_string_attribute;
using store_detail::write_u32_attribute;

// One split as written so far.
struct SplitSpill {
  SplitSpill(const std::string& store_path, Split split)
      : tokens(fmt::format("{}.{}.tmp", store_path, split_name(split))),
        doc_starts(fmt::format("{}.{}.docs.tmp", store_path, split_name(split))) {}

  SpillFile tokens;      // narrowed to the store's dtype, native byte order
  SpillFile doc_starts;  // uint64, native byte order
  std::uint64_t token_count = 0;
  std::uint64_t doc_count = 0;
  // Whether the next token continues the last document. A document's start
  // is recorded with its first token, so a document never ends up empty.
  bool in_document = false;
};

hid_t file_type(TokenDtype dtype) {
  return dtype == TokenDtype::u8    ? H5T_STD_U8LE
         : dtype == TokenDtype::u16 ? H5T_STD_U16LE
                                    : H5T_STD_U32LE;
}
hid_t memory_type(TokenDtype dtype) {
  return dtype == TokenDtype::u8    ? H5T_NATIVE_UINT8
         : dtype == TokenDtype::u16 ? H5T_NATIVE_UINT16
                                    : H5T_NATIVE_UINT32;
}

// fsync through a fresh descriptor: what was written through HDF5's own
// descriptor reaches the disk all the same.
void sync_path(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw StoreError(fmt::format("{}: cannot sync {} ({})", path, what, std::strerror(error)));
  }
  ::close(fd);
}

// Gives the values [start, start + count) of a dataset being written, in
// memory valid until the next call.
using BlockSource = std::function<const unsigned char*(std::uint64_t start, std::uint64_t count)>;

// A contiguous, unfiltered dataset allocated at creation (so it has a file
// offset and can be mapped), filled from `read_block`, `per_block` values
// of `width` bytes at a time. Returns the CRC-32 of its bytes, summed on the
// way: the stored type is little-endian, as are the machines Loom runs on,
// so the bytes in memory are the bytes in the file.
DatasetChecksum write_dataset(hid_t store, const std::string& name, hid_t stored_type,
                              hid_t memory_type, std::size_t width, std::uint64_t count,
                              std::uint64_t per_block, const BlockSource& read_block,
                              const std::string& file) {
  const std::string what = fmt::format("cannot write {}", name);
  const hsize_t dims = count;
  Hid file_space = checked(H5Screate_simple(1, &dims, nullptr), H5Sclose, file, what);
  Hid create = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, file, what);
  check(H5Pset_layout(create.get(), H5D_CONTIGUOUS), file, what);
  check(H5Pset_alloc_time(create.get(), H5D_ALLOC_TIME_EARLY), file, what);
  // Every byte is written below; filling first would write the data twice.
  check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), file, what);
  Hid dataset = checked(H5Dcreate2(store, name.c_str(), stored_type, file_space.get(), H5P_DEFAULT,
                                   create.get(), H5P_DEFAULT),
                        H5Dclose, file, what);
  Crc32 crc;
  for (std::uint64_t start = 0; start < count; start += per_block) {
    const hsize_t offset = start;
    const hsize_t length = std::min(per_block, count - start);
    const unsigned char* const values = read_block(start, length);
    crc.update(values, length * width);
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &offset, nullptr, &length, nullptr),
          file, what);
    Hid memory_space = checked(H5Screate_simple(1, &length, nullptr), H5Sclose, file, what);
    check(H5Dwrite(dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                   values),
          file, what);
  }
  check(dataset.close(), file, what);
  return {name, count * width, crc.value()};
}

// Refuses to replace what is at `path` unless asked, and never replaces
// anything but a file.
void check_target(const std::string& path, bool overwrite) {
  std::error_code error;
  const auto status = std::filesystem::symlink_status(path, error);
  if (!std::filesystem::exists(status)) return;
  if (!overwrite) throw StoreError(fmt::format("{} exists; pass --force to replace it", path));
  if (!std::filesystem::is_regular_file(status)) {
    throw StoreError(fmt::format("{} exists and is not a regular file; not replacing it", path));
  }
}

}  // namespace

struct TokenStoreWriter::Impl {
  // A vocab_size of 0: provisional ids, stored as narrow as they allow.
  Impl(std::string target, std::uint32_t vocab, bool replace)
      : path(std::move(target)),
        temp_path(path + ".tmp"),
        overwrite(replace),
        provisional(vocab == 0),
        vocab_size(vocab),
        dtype(dtype_for_vocab(vocab)),
        width(dtype_bytes(dtype)),
        train(path, Split::train),
        val(path, Split::val) {}

  ~Impl() {
    if (!committed) std::remove(temp_path.c_str());
  }

  SplitSpill& spill(Split split) { return split == Split::train ? train : val; }
  const SplitSpill& spill(Split split) const { return split == Split::train ? train : val; }

  void require_open() const {
    if (committed) throw StoreError(fmt::format("{}: already committed", path));
  }

  void start_document_if_needed(SplitSpill& split) {
    if (split.in_document) return;
    split.doc_starts.append(&split.token_count, sizeof split.token_count);
    ++split.doc_count;
    split.in_document = true;
  }

  // Drops the document starts of `split` at or past its (new) last token.
  void drop_doc_starts_past_end(SplitSpill& split) {
    std::uint64_t low = 0;
    std::uint64_t high = split.doc_count;  // first start >= token_count lies in [low, high]
    while (low < high) {
      const std::uint64_t middle = low + (high - low) / 2;
      std::uint64_t start = 0;
      split.doc_starts.read(middle * sizeof start, &start, sizeof start);
      if (start < split.token_count) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    split.doc_starts.truncate(low * sizeof(std::uint64_t));
    split.doc_count = low;
  }

  // Rewrites both splits' tokens as `wider`, for a provisional id that does
  // not fit the current width. At most twice per writer (u8 to u16 to u32).
  void widen_tokens(TokenDtype wider) {
    for (Split split : {Split::train, Split::val})
      store_detail::widen_ids(spill(split).tokens, spill(split).token_count, dtype, wider, block,
                              converted);
    dtype = wider;
    width = dtype_bytes(wider);
  }

  void write_hdf5(const StoreMetadata& metadata, const text::TokenId* final_ids);
  void commit(StoreMetadata metadata, const text::TokenId* final_ids);

  std::string path;
  std::string temp_path;
  bool overwrite;
  bool provisional;          // ids are remapped at commit
  std::uint32_t vocab_size;  // 0 while the ids are provisional
  TokenDtype dtype;          // of the scratch files; the store's once the ids are final
  std::size_t width;
  text::TokenId largest_provisional_id = 0;
  SplitSpill train;
  SplitSpill val;
  std::vector<unsigned char> block;      // narrowed tokens on append; a copy block on commit
  std::vector<unsigned char> converted;  // a block widened or remapped
  bool committed = false;
};

void TokenStoreWriter::Impl::write_hdf5(const StoreMetadata& metadata,
                                        const text::TokenId* final_ids) {
  const std::string& file = temp_path;
  const TokenDtype stored = metadata.dtype;
  const std::size_t stored_width = dtype_bytes(stored);
  // Scratch tokens go straight from the copy block unless they change on the way.
  const bool convert = final_ids != nullptr || stored != dtype;
  const std::uint64_t per_token_block =
      store_detail::kSpillBlockBytes / std::max(width, stored_width);
  block.resize(store_detail::kSpillBlockBytes);
  if (convert) converted.resize(store_detail::kSpillBlockBytes);
  store_detail::Hdf5Session session;
  Hid access = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, file, "cannot create HDF5 file");
  check(H5Pset_alignment(access.get(), 1, store_detail::kDatasetAlignment), file,
        "cannot create HDF5 file");
  store_detail::use_file_locks_where_supported(access.get(), file, "cannot create HDF5 file");
  std::vector<DatasetChecksum> checksums;
  // H5F_ACC_TRUNC replaces a NAME.h5.tmp left by a killed run.
  Hid store = checked(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose,
                      file, "cannot create HDF5 file");
  for (Split split : {Split::train, Split::val}) {
    SplitSpill& data = spill(split);
    Hid group =
        checked(H5Gcreate2(store.get(), split_name(split), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                H5Gclose, file, fmt::format("cannot create group /{}", split_name(split)));
    const BlockSource tokens = [&](std::uint64_t start, std::uint64_t count) {
      data.tokens.read(start * width, block.data(), count * width);
      if (!convert) return block.data();
      convert_ids(dtype, block.data(), count, final_ids, stored, converted.data());
      return converted.data();
    };
    checksums.push_back(write_dataset(store.get(), store_detail::tokens_dataset(split),
                                      file_type(stored), memory_type(stored), stored_width,
                                      data.token_count, per_token_block, tokens, file));
    const BlockSource doc_starts = [&](std::uint64_t start, std::uint64_t count) {
      data.doc_starts.read(start * sizeof(std::uint64_t), block.data(),
                           count * sizeof(std::uint64_t));
      return block.data();
    };
    checksums.push_back(
        write_dataset(store.get(), store_detail::doc_offsets_dataset(split), H5T_STD_U64LE,
                      H5T_NATIVE_UINT64, sizeof(std::uint64_t), data.doc_count,
                      store_detail::kSpillBlockBytes / sizeof(std::uint64_t), doc_starts, file));
  }
  const hid_t root = store.get();
  write_u32_attribute(root, store_detail::kFormatVersionAttribute, metadata.format_version, file);
  write_u32_attribute(root, store_detail::kVocabSizeAttribute, metadata.vocab_size, file);
  write_string_attribute(root, store_detail::kDtypeAttribute, dtype_name(metadata.dtype), file);
  write_string_attribute(root, store_detail::kTokenizerAttribute, metadata.tokenizer_json, file);
  write_string_attribute(root, store_detail::kSourcesAttribute,
                         store_detail::sources_to_json(metadata.sources), file);
  write_string_attribute(root, store_detail::kFiltersAttribute, metadata.filters_json, file);
  write_string_attribute(root, store_detail::kReportAttribute, metadata.report_json, file);
  write_string_attribute(root, store_detail::kCreatedAttribute, metadata.created, file);
  write_string_attribute(root, store_detail::kChecksumsAttribute,
                         store_detail::checksums_to_json(checksums), file);
  // Closing flushes HDF5's metadata: a failure here (a full disk) is real.
  check(store.close(), file, "cannot finish HDF5 file");
}

TokenStoreWriter::TokenStoreWriter(std::string path, std::uint32_t vocab_size, bool overwrite) {
  if (vocab_size == 0) {
    throw StoreError(fmt::format("{}: vocab_size is 0; a store needs a vocabulary", path));
  }
  check_target(path, overwrite);
  impl_ = std::make_unique<Impl>(std::move(path), vocab_size, overwrite);
}

TokenStoreWriter::TokenStoreWriter(std::string path, ProvisionalIds, bool overwrite) {
  check_target(path, overwrite);
  impl_ = std::make_unique<Impl>(std::move(path), 0, overwrite);
}

TokenStoreWriter::~TokenStoreWriter() = default;

void TokenStoreWriter::begin_document(Split split) {
  impl_->require_open();
  impl_->spill(split).in_document = false;
}

void TokenStoreWriter::append(Split split, const text::TokenId* ids, std::size_t count) {
  Impl& writer = *impl_;
  writer.require_open();
  if (count == 0) return;
  // Check the whole call first, so a rejected call appends nothing.
  const text::TokenId largest = *std::max_element(ids, ids + count);
  if (writer.provisional) {
    writer.largest_provisional_id = std::max(writer.largest_provisional_id, largest);
    const TokenDtype needed = dtype_for_vocab(std::uint64_t{largest} + 1);
    if (dtype_bytes(needed) > writer.width) writer.widen_tokens(needed);
  } else if (largest >= writer.vocab_size) {
    const text::TokenId* bad =
        std::find_if(ids, ids + count, [&](text::TokenId id) { return id >= writer.vocab_size; });
    throw StoreError(fmt::format(
        "{}: token id {} (at {} token {}) is not below vocab_size {}", writer.path, *bad,
        split_name(split), writer.spill(split).token_count + static_cast<std::uint64_t>(bad - ids),
        writer.vocab_size));
  }
  SplitSpill& data = writer.spill(split);
  writer.start_document_if_needed(data);
  const std::size_t per_block = store_detail::kSpillBlockBytes / writer.width;
  writer.block.resize(store_detail::kSpillBlockBytes);
  for (std::size_t done = 0; done < count; done += per_block) {
    const std::size_t take = std::min(per_block, count - done);
    convert_ids(TokenDtype::u32, reinterpret_cast<const unsigned char*>(ids + done), take, nullptr,
                writer.dtype, writer.block.data());
    data.tokens.append(writer.block.data(), take * writer.width);
  }
  data.token_count += count;
}

std::uint64_t TokenStoreWriter::tokens(Split split) const {
  return impl_->spill(split).token_count;
}

std::uint64_t TokenStoreWriter::documents(Split split) const {
  return impl_->spill(split).doc_count;
}

void TokenStoreWriter::move_train_tail_to_val(std::uint64_t count) {
  Impl& writer = *impl_;
  writer.require_open();
  SplitSpill& train = writer.train;
  SplitSpill& val = writer.val;
  if (count > train.token_count) {
    throw StoreError(fmt::format("{}: cannot move {} train tokens to val: train has only {}",
                                 writer.path, count, train.token_count));
  }
  if (count == 0) return;
  const std::uint64_t new_end = train.token_count - count;
  // The tail is a document of its own, and val tokens after it start another.
  val.in_document = false;
  writer.start_document_if_needed(val);
  writer.block.resize(store_detail::kSpillBlockBytes);
  const std::uint64_t per_block = store_detail::kSpillBlockBytes / writer.width;
  for (std::uint64_t start = new_end; start < train.token_count; start += per_block) {
    const std::uint64_t take = std::min(per_block, train.token_count - start);
    train.tokens.read(start * writer.width, writer.block.data(), take * writer.width);
    val.tokens.append(writer.block.data(), take * writer.width);
  }
  val.token_count += count;
  val.in_document = false;
  train.tokens.truncate(new_end * writer.width);
  train.token_count = new_end;
  train.in_document = false;
  writer.drop_doc_starts_past_end(train);
}

void TokenStoreWriter::commit(StoreMetadata metadata) {
  Impl& writer = *impl_;
  writer.require_open();
  if (writer.provisional) {
    throw StoreError(
        fmt::format("{}: the ids are provisional; commit needs their final ids", writer.path));
  }
  metadata.vocab_size = writer.vocab_size;
  writer.commit(std::move(metadata), nullptr);
}

void TokenStoreWriter::commit(StoreMetadata metadata, const std::vector<text::TokenId>& final_ids) {
  Impl& writer = *impl_;
  writer.require_open();
  if (!writer.provisional) {
    throw StoreError(
        fmt::format("{}: the ids are final already; commit takes no final ids", writer.path));
  }
  if (metadata.vocab_size == 0) {
    throw StoreError(fmt::format("{}: vocab_size is 0; a store needs a vocabulary", writer.path));
  }
  const bool has_tokens = writer.train.token_count + writer.val.token_count > 0;
  if (has_tokens && writer.largest_provisional_id >= final_ids.size()) {
    throw StoreError(fmt::format("{}: provisional id {} has no final id (only {} are given)",
                                 writer.path, writer.largest_provisional_id, final_ids.size()));
  }
  const auto past_vocab = std::find_if(final_ids.begin(), final_ids.end(),
                                       [&](text::TokenId id) { return id >= metadata.vocab_size; });
  if (past_vocab != final_ids.end()) {
    throw StoreError(
        fmt::format("{}: final id {} (of provisional id {}) is not below vocab_size {}",
                    writer.path, *past_vocab, past_vocab - final_ids.begin(), metadata.vocab_size));
  }
  writer.commit(std::move(metadata), final_ids.data());
}

void TokenStoreWriter::Impl::commit(StoreMetadata metadata, const text::TokenId* final_ids) {
  metadata.format_version = kStoreFormatVersion;
  metadata.dtype = dtype_for_vocab(metadata.vocab_size);
  if (metadata.created.empty()) metadata.created = store_detail::utc_now_iso8601();
  // Before writing anything: a store the reader would refuse is not made.
  store_detail::check_json_attributes(metadata, path);

  write_hdf5(metadata, final_ids);
  // Again, for a file that appeared at `path` while the corpus streamed in.
  check_target(path, overwrite);
  sync_path(temp_path, O_RDONLY, "the new store");
  if (std::rename(temp_path.c_str(), path.c_str()) != 0) {
    throw StoreError(
        fmt::format("{}: cannot rename {} to it ({})", path, temp_path, std::strerror(errno)));
  }
  committed = true;
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  sync_path(folder.string(), O_RDONLY | O_DIRECTORY, "its folder");
  for (Split split : {Split::train, Split::val}) {
    spill(split).tokens.discard();
    spill(split).doc_starts.discard();
  }
}

}  // namespace loom::data
