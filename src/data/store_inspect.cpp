// Opening a token store with HDF5 and checking it can be mapped; see
// store_inspect.hpp.
#include "store_inspect.hpp"

#include "store_hdf5.hpp"
#include "store_layout.hpp"
#include <fmt/format.h>
#include <sys/stat.h>

namespace loom::data::store_detail {
namespace {

// What a dataset must hold: unsigned little-endian integers of `width`
// bytes, named `type_name` in messages.
struct ExpectedType {
  std::size_t width;
  std::string type_name;
};

const char* layout_name(H5D_layout_t layout) {
  switch (layout) {
    case H5D_COMPACT:
      return "compact";
    case H5D_CHUNKED:
      return "chunked";
    case H5D_VIRTUAL:
      return "virtual";
    default:
      return "in an unknown layout";
  }
}

void check_value_type(hid_t dataset, const std::string& name, const ExpectedType& expected,
                      const std::string& file) {
  Hid type =
      checked(H5Dget_type(dataset), H5Tclose, file, fmt::format("cannot read type of {}", name));
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw StoreError(
        fmt::format("{}: {} does not hold integers; expected {}", file, name, expected.type_name));
  }
  if (H5Tget_sign(type.get()) != H5T_SGN_NONE) {
    throw StoreError(
        fmt::format("{}: {} holds signed integers; expected {}", file, name, expected.type_name));
  }
  const std::size_t width = H5Tget_size(type.get());
  if (width != expected.width) {
    throw StoreError(
        fmt::format("{}: {} holds uint{}; expected {}", file, name, width * 8, expected.type_name));
  }
  if (width > 1 && H5Tget_order(type.get()) != H5T_ORDER_LE) {
    throw StoreError(fmt::format(
        "{}: {} is not little-endian; a memory-mapped store must be little-endian", file, name));
  }
}

// The layout checks that make the dataset's bytes mappable in place.
void check_storage(hid_t dataset, const std::string& name, const std::string& file) {
  Hid create = checked(H5Dget_create_plist(dataset), H5Pclose, file,
                       fmt::format("cannot read storage of {}", name));
  const int filters = H5Pget_nfilters(create.get());
  if (filters > 0) {
    unsigned flags = 0;
    std::size_t values = 0;
    char filter[64] = "";
    unsigned config = 0;
    H5Pget_filter2(create.get(), 0, &flags, &values, nullptr, sizeof filter, filter, &config);
    throw StoreError(
        fmt::format("{}: {} is compressed or filtered ({}); a memory-mapped store needs raw data",
                    file, name, filter));
  }
  const H5D_layout_t layout = H5Pget_layout(create.get());
  if (layout != H5D_CONTIGUOUS) {
    throw StoreError(
        fmt::format("{}: {} is stored {}; a memory-mapped store needs contiguous storage", file,
                    name, layout_name(layout)));
  }
}

DatasetExtent inspect_dataset(hid_t store, const std::string& name, const ExpectedType& expected,
                              const std::string& file) {
  Hid dataset = checked(H5Dopen2(store, name.c_str(), H5P_DEFAULT), H5Dclose, file,
                        fmt::format("cannot open {}", name));
  check_value_type(dataset.get(), name, expected, file);
  check_storage(dataset.get(), name, file);

  Hid space = checked(H5Dget_space(dataset.get()), H5Sclose, file,
                      fmt::format("cannot read shape of {}", name));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank != 1) {
    throw StoreError(fmt::format("{}: {} has {} dimensions; expected 1", file, name, rank));
  }
  hsize_t count = 0;
  check(H5Sget_simple_extent_dims(space.get(), &count, nullptr), file,
        fmt::format("cannot read shape of {}", name));

  DatasetExtent extent;
  extent.count = count;
  if (count == 0) return extent;  // HDF5 allocates nothing for an empty dataset
  H5D_space_status_t status = H5D_SPACE_STATUS_ERROR;
  check(H5Dget_space_status(dataset.get(), &status), file,
        fmt::format("cannot read storage of {}", name));
  const haddr_t offset = H5Dget_offset(dataset.get());
  if (status != H5D_SPACE_STATUS_ALLOCATED || offset == HADDR_UNDEF) {
    throw StoreError(fmt::format("{}: {} has no storage allocated in the file", file, name));
  }
  extent.offset = offset;
  return extent;
}

// H5Lexists needs each level of a path to exist before asking about the next.
bool dataset_link_exists(hid_t store, Split split, const std::string& name) {
  return H5Lexists(store, split_name(split), H5P_DEFAULT) > 0 &&
         H5Lexists(store, name.c_str(), H5P_DEFAULT) > 0;
}

Hid open_hdf5(const std::string& path) {
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  check(is_hdf5, path, "cannot read");
  if (is_hdf5 == 0) throw StoreError(fmt::format("{}: not an HDF5 file", path));

  Hid access = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path, "cannot open");
  use_file_locks_where_supported(access.get(), path, "cannot open");
  const hid_t store = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
  if (store < 0 && hdf5_error_has(H5E_TRUNCATED)) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    throw StoreError(fmt::format(
        "{}: truncated: the file has {} bytes, fewer than HDF5 recorded when writing it", path,
        static_cast<std::uint64_t>(info.st_size)));
  }
  return checked(store, H5Fclose, path, "cannot open as HDF5");
}

}  // namespace

StoreContents inspect_store(const std::string& path) {
  Hdf5Session session;
  Hid store = open_hdf5(path);
  const hid_t root = store.get();
  StoreContents contents;
  StoreMetadata& metadata = contents.metadata;

  // The version comes first: a newer format may be laid out differently,
  // and saying so beats reporting what it lacks.
  if (H5Aexists(root, kFormatVersionAttribute) > 0) {
    metadata.format_version = read_u32_attribute(root, kFormatVersionAttribute, path);
    if (metadata.format_version > kStoreFormatVersion) {
      throw StoreError(
          fmt::format("{}: written by a newer Loom (format {}, this build reads up to {})", path,
                      metadata.format_version, kStoreFormatVersion));
    }
    if (metadata.format_version == 0) {
      throw StoreError(fmt::format("{}: format_version 0 is not a valid format", path));
    }
  }
  for (Split split : {Split::train, Split::val}) {
    for (const std::string& name : {tokens_dataset(split), doc_offsets_dataset(split)}) {
      if (!dataset_link_exists(root, split, name)) {
        throw StoreError(fmt::format("{}: not a Loom token store: missing {}", path, name));
      }
    }
  }
  for (const char* name :
       {kFormatVersionAttribute, kVocabSizeAttribute, kDtypeAttribute, kTokenizerAttribute,
        kSourcesAttribute, kFiltersAttribute, kReportAttribute, kCreatedAttribute}) {
    if (H5Aexists(root, name) <= 0) {
      throw StoreError(fmt::format("{}: not a Loom token store: missing attribute {}", path, name));
    }
  }

  metadata.vocab_size = read_u32_attribute(root, kVocabSizeAttribute, path);
  if (metadata.vocab_size == 0) throw StoreError(fmt::format("{}: vocab_size is 0", path));
  const std::string dtype = read_string_attribute(root, kDtypeAttribute, path);
  const std::optional<TokenDtype> parsed = dtype_from_name(dtype);
  if (!parsed) {
    throw StoreError(
        fmt::format("{}: dtype is \"{}\"; expected uint8, uint16 or uint32", path, dtype));
  }
  metadata.dtype = *parsed;
  if (metadata.dtype != dtype_for_vocab(metadata.vocab_size)) {
    throw StoreError(fmt::format("{}: dtype {} disagrees with vocab_size {}, which needs {}", path,
                                 dtype, metadata.vocab_size,
                                 dtype_name(dtype_for_vocab(metadata.vocab_size))));
  }
  metadata.tokenizer_json = read_string_attribute(root, kTokenizerAttribute, path);
  metadata.sources = sources_from_json(read_string_attribute(root, kSourcesAttribute, path), path);
  metadata.filters_json = read_string_attribute(root, kFiltersAttribute, path);
  metadata.report_json = read_string_attribute(root, kReportAttribute, path);
  metadata.created = read_string_attribute(root, kCreatedAttribute, path);
  if (H5Aexists(root, kChecksumsAttribute) > 0) {
    metadata.checksums =
        checksums_from_json(read_string_attribute(root, kChecksumsAttribute, path), path);
  }
  check_json_attributes(metadata, path);

  const ExpectedType token_type{dtype_bytes(metadata.dtype), dtype};
  const ExpectedType offset_type{sizeof(std::uint64_t), "uint64"};
  for (Split split : {Split::train, Split::val}) {
    SplitExtents& extents = contents.splits[static_cast<int>(split)];
    extents.tokens = inspect_dataset(root, tokens_dataset(split), token_type, path);
    extents.doc_offsets = inspect_dataset(root, doc_offsets_dataset(split), offset_type, path);
  }
  check(store.close(), path, "cannot close");
  return contents;
}

}  // namespace loom::data::store_detail
