// Helpers for the token store tests: writing small stores from a list of
// documents, catching the reader's error message, and patching a valid
// store with HDF5's C API into each kind of bad file the reader must refuse.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <hdf5.h>

#include "loom/data/token_store.hpp"

namespace loom::test {

struct Document {
  data::Split split;
  std::vector<text::TokenId> ids;
};

// Every metadata field set to something recognisable, including non-ASCII
// text and numbers past 32 bits; the tokenizer's vocab_size is the store's,
// as the writer and reader require (a writer of final ids sets vocab_size
// itself; one of provisional ids takes it from here).
inline data::StoreMetadata full_metadata(std::uint32_t vocab_size) {
  data::StoreMetadata metadata;
  metadata.vocab_size = vocab_size;
  metadata.tokenizer_json = R"({"kind":"char","vocab_size":)" + std::to_string(vocab_size) +
                            R"(,"chars":"ab\u00e9\u65e5"})";
  metadata.sources = {{"corpus/part-1.txt.gz", 5000000000ULL, 0xDEADBEEFu},
                      {"corpus/t\xC3\xA9l\xC3\xA9gramme.json", 42, 0}};
  metadata.filters_json = R"({"min_chars":10,"removed":3})";
  metadata.report_json = R"({"documents":7})";
  metadata.created = "2024-05-01T12:34:56Z";
  return metadata;
}

// Writes `documents` (each begun with begin_document, appended in two
// calls) and commits `metadata`, full_metadata(vocab_size) when not given.
inline void write_store(const std::string& path, std::uint32_t vocab_size,
                        const std::vector<Document>& documents,
                        const std::optional<data::StoreMetadata>& metadata = std::nullopt) {
  data::TokenStoreWriter writer(path, vocab_size, false);
  for (const Document& document : documents) {
    writer.begin_document(document.split);
    const std::size_t half = document.ids.size() / 2;
    writer.append(document.split, document.ids.data(), half);
    writer.append(document.split, document.ids.data() + half, document.ids.size() - half);
  }
  writer.commit(metadata ? *metadata : full_metadata(vocab_size));
}

// `count` ids below `vocab_size` in a fixed, irregular pattern.
inline std::vector<text::TokenId> token_pattern(std::size_t count, std::uint32_t vocab_size,
                                                std::uint64_t seed = 1) {
  std::vector<text::TokenId> ids(count);
  for (std::size_t i = 0; i < count; ++i) {
    ids[i] = static_cast<text::TokenId>((i * 7919 + seed * 104729 + i / 13) % vocab_size);
  }
  return ids;
}

// A split's tokens and document starts, read through its view.
inline std::vector<text::TokenId> tokens_of(const data::SplitView& view) {
  std::vector<std::int64_t> wide(view.size);
  if (view.size > 0) view.copy_to(0, view.size, wide.data());
  return std::vector<text::TokenId>(wide.begin(), wide.end());
}

inline std::vector<std::uint64_t> doc_starts_of(const data::SplitView& view) {
  return std::vector<std::uint64_t>(view.doc_starts, view.doc_starts + view.num_docs);
}

// The StoreError message opening `path` gives, or "opened" when it opens.
inline std::string open_error(const std::string& path) {
  try {
    data::TokenStoreReader reader(path);
  } catch (const data::StoreError& e) {
    return e.what();
  }
  return "opened";
}

inline void hdf5_ok(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5 call failed in test: " + what);
}

// A store opened read-write with the C API, to be damaged on purpose.
class StorePatch {
 public:
  explicit StorePatch(const std::string& path) {
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    hdf5_ok(file_ < 0 ? -1 : 0, "open " + path);
  }
  ~StorePatch() { H5Fclose(file_); }
  StorePatch(const StorePatch&) = delete;
  StorePatch& operator=(const StorePatch&) = delete;

  hid_t file() const { return file_; }

  void set_u32_attribute(const char* name, std::uint32_t value) {
    const hid_t attribute = H5Aopen(file_, name, H5P_DEFAULT);
    hdf5_ok(H5Awrite(attribute, H5T_NATIVE_UINT32, &value), name);
    H5Aclose(attribute);
  }

  void delete_attribute(const char* name) { hdf5_ok(H5Adelete(file_, name), name); }

  // Replaces attribute `name` by a variable-length UTF-8 string, as the
  // writer makes them.
  void set_string_attribute(const char* name, const std::string& value) {
    delete_attribute(name);
    const hid_t type = H5Tcopy(H5T_C_S1);
    hdf5_ok(H5Tset_size(type, H5T_VARIABLE), name);
    hdf5_ok(H5Tset_cset(type, H5T_CSET_UTF8), name);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(file_, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = value.c_str();
    hdf5_ok(H5Awrite(attribute, type, &text), name);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }

  // Overwrites one value of a 1-D dataset (HDF5 converts from uint64).
  void set_value(const std::string& dataset_name, std::uint64_t index, std::uint64_t value) {
    const hid_t dataset = H5Dopen2(file_, dataset_name.c_str(), H5P_DEFAULT);
    const hid_t file_space = H5Dget_space(dataset);
    const hsize_t start = index;
    const hsize_t one = 1;
    hdf5_ok(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, nullptr, &one, nullptr),
            dataset_name);
    const hid_t memory_space = H5Screate_simple(1, &one, nullptr);
    hdf5_ok(H5Dwrite(dataset, H5T_NATIVE_UINT64, memory_space, file_space, H5P_DEFAULT, &value),
            dataset_name);
    H5Sclose(memory_space);
    H5Sclose(file_space);
    H5Dclose(dataset);
  }

  // Deletes `dataset_name` and creates it anew as `type` with creation
  // properties `create` (H5P_DEFAULT: contiguous), holding `values`.
  void replace_dataset(const std::string& dataset_name, hid_t type,
                       const std::vector<std::uint64_t>& values, hid_t create = H5P_DEFAULT) {
    hdf5_ok(H5Ldelete(file_, dataset_name.c_str(), H5P_DEFAULT), dataset_name);
    add_dataset(dataset_name, type, values, create);
  }

  void add_dataset(const std::string& dataset_name, hid_t type,
                   const std::vector<std::uint64_t>& values, hid_t create = H5P_DEFAULT) {
    const hsize_t count = values.size();
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t dataset =
        H5Dcreate2(file_, dataset_name.c_str(), type, space, H5P_DEFAULT, create, H5P_DEFAULT);
    hdf5_ok(dataset < 0 ? -1 : 0, "create " + dataset_name);
    if (count > 0) {
      hdf5_ok(H5Dwrite(dataset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              dataset_name);
    }
    H5Dclose(dataset);
    H5Sclose(space);
  }

  // The file offset of a dataset's raw data.
  std::uint64_t offset_of(const std::string& dataset_name) {
    const hid_t dataset = H5Dopen2(file_, dataset_name.c_str(), H5P_DEFAULT);
    const haddr_t offset = H5Dget_offset(dataset);
    H5Dclose(dataset);
    return offset;
  }

 private:
  hid_t file_ = -1;
};

}  // namespace loom::test
