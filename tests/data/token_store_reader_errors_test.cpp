// Every kind of file the token store reader must refuse, each with its exact
// message: not a store at all, a foreign HDF5 file, a layout that cannot be
// mapped, a dtype that disagrees with the vocabulary, a newer format, a
// truncated file, and corrupt content. The bad files are valid stores
// damaged with HDF5's C API.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "store_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data/token_store.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

using Values = std::vector<std::uint64_t>;

// A uint8 store (vocab_size 100): train has 30 tokens in documents at 0,
// 10, 20; val has 5 tokens in one document.
class BadStore : public ::testing::Test {
 protected:
  void SetUp() override {
    write_store(path_, 100,
                {{Split::train, token_pattern(10, 100, 1)},
                 {Split::train, token_pattern(10, 100, 2)},
                 {Split::train, token_pattern(10, 100, 3)},
                 {Split::val, token_pattern(5, 100, 4)}});
    ASSERT_EQ(open_error(path_), "opened");
  }

  // The reader's message, without the leading "PATH: ".
  std::string error() {
    const std::string message = open_error(path_);
    const std::string prefix = path_ + ": ";
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
  }

  TempDir dir_;
  std::string path_ = dir_.file("corpus.h5");
};

// Dataset creation properties, closed with the test.
class CreateProperties {
 public:
  CreateProperties() : id_(H5Pcreate(H5P_DATASET_CREATE)) {}
  ~CreateProperties() { H5Pclose(id_); }
  hid_t get() const { return id_; }

 private:
  hid_t id_;
};

TEST(TokenStoreReader, RefusesWhatIsNotAStore) {
  TempDir dir;
  EXPECT_EQ(open_error(dir.file("absent.h5")), dir.file("absent.h5") + ": no such file");
  EXPECT_EQ(open_error(dir.path().string()), dir.path().string() + ": not a regular file");
  const std::string text = write_file(dir.file("notes.h5"), "just some text\n");
  EXPECT_EQ(open_error(text), text + ": not an HDF5 file");
}

TEST(TokenStoreReader, RefusesAForeignHdf5File) {
  TempDir dir;
  const std::string path = dir.file("foreign.h5");
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Fclose(file);
  StorePatch(path).add_dataset("/data", H5T_STD_I32LE, {1, 2, 3});
  EXPECT_EQ(open_error(path), path + ": not a Loom token store: missing /train/tokens");
}

TEST_F(BadStore, MissingDataset) {
  hdf5_ok(H5Ldelete(StorePatch(path_).file(), "/val/doc_offsets", H5P_DEFAULT), "delete");
  EXPECT_EQ(error(), "not a Loom token store: missing /val/doc_offsets");
}

TEST_F(BadStore, MissingAttribute) {
  StorePatch(path_).delete_attribute("report");
  EXPECT_EQ(error(), "not a Loom token store: missing attribute report");
}

TEST_F(BadStore, NewerFormatVersion) {
  StorePatch(path_).set_u32_attribute("format_version", 2);
  EXPECT_EQ(error(), "written by a newer Loom (format 2, this build reads up to 1)");
}

TEST_F(BadStore, DtypeThatDisagreesWithVocabSize) {
  StorePatch(path_).set_u32_attribute("vocab_size", 70000);
  EXPECT_EQ(error(), "dtype uint8 disagrees with vocab_size 70000, which needs uint32");
}

TEST_F(BadStore, TokensOfAnotherWidthThanDtype) {
  StorePatch(path_).replace_dataset("/val/tokens", H5T_STD_U16LE, {1, 2, 3, 4, 5});
  EXPECT_EQ(error(), "/val/tokens holds uint16; expected uint8");
}

TEST_F(BadStore, SignedDocOffsets) {
  StorePatch(path_).replace_dataset("/val/doc_offsets", H5T_STD_I64LE, {0});
  EXPECT_EQ(error(), "/val/doc_offsets holds signed integers; expected uint64");
}

TEST(TokenStoreReader, RefusesBigEndianTokens) {
  TempDir dir;
  const std::string path = dir.file("corpus.h5");
  write_store(path, 1000, {{Split::train, {700, 800, 900}}});
  StorePatch(path).replace_dataset("/train/tokens", H5T_STD_U16BE, {700, 800, 900});
  EXPECT_EQ(open_error(path),
            path +
                ": /train/tokens is not little-endian; a memory-mapped store must be "
                "little-endian");
}

TEST_F(BadStore, ChunkedTokens) {
  CreateProperties chunked;
  const hsize_t chunk = 8;
  H5Pset_chunk(chunked.get(), 1, &chunk);
  StorePatch(path_).replace_dataset("/train/tokens", H5T_STD_U8LE, Values(30, 1), chunked.get());
  EXPECT_EQ(error(),
            "/train/tokens is stored chunked; a memory-mapped store needs contiguous storage");
}

TEST_F(BadStore, CompressedTokens) {
  CreateProperties compressed;
  const hsize_t chunk = 8;
  H5Pset_chunk(compressed.get(), 1, &chunk);
  H5Pset_deflate(compressed.get(), 6);
  StorePatch(path_).replace_dataset("/train/tokens", H5T_STD_U8LE, Values(30, 1), compressed.get());
  EXPECT_EQ(error(),
            "/train/tokens is compressed or filtered (deflate); a memory-mapped store needs raw "
            "data");
}

TEST_F(BadStore, TwoDimensionalTokens) {
  {
    StorePatch patch(path_);
    hdf5_ok(H5Ldelete(patch.file(), "/val/tokens", H5P_DEFAULT), "delete");
    const hsize_t dims[2] = {5, 1};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    H5Dclose(H5Dcreate2(patch.file(), "/val/tokens", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Sclose(space);
  }
  EXPECT_EQ(error(), "/val/tokens has 2 dimensions; expected 1");
}

TEST_F(BadStore, UnallocatedTokens) {
  // Contiguous storage is allocated when first written; this one never is.
  {
    StorePatch patch(path_);
    hdf5_ok(H5Ldelete(patch.file(), "/val/tokens", H5P_DEFAULT), "delete");
    const hsize_t count = 5;
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    H5Dclose(H5Dcreate2(patch.file(), "/val/tokens", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Sclose(space);
  }
  EXPECT_EQ(error(), "/val/tokens has no storage allocated in the file");
}

TEST_F(BadStore, MisalignedDocOffsets) {
  std::uint64_t offset = 0;
  {
    StorePatch patch(path_);
    // Raw data is allocated one piece after another: three bytes first
    // push what follows off an 8-byte boundary. The replacement is made
    // before the original is deleted, or it would take the freed space.
    CreateProperties early;
    H5Pset_alloc_time(early.get(), H5D_ALLOC_TIME_EARLY);
    patch.add_dataset("/padding", H5T_STD_U8LE, {1, 2, 3}, early.get());
    patch.add_dataset("/val/moved", H5T_STD_U64LE, {0}, early.get());
    hdf5_ok(H5Ldelete(patch.file(), "/val/doc_offsets", H5P_DEFAULT), "delete");
    hdf5_ok(H5Lmove(patch.file(), "/val/moved", patch.file(), "/val/doc_offsets", H5P_DEFAULT,
                    H5P_DEFAULT),
            "move");
    offset = patch.offset_of("/val/doc_offsets");
  }
  ASSERT_NE(offset % 8, 0u) << "HDF5 placed the dataset differently; adjust the padding";
  EXPECT_EQ(error(), "/val/doc_offsets starts at byte " + std::to_string(offset) +
                         ", not a multiple of 8, so it cannot be memory-mapped");
}

TEST_F(BadStore, TruncatedFile) {
  const auto size = std::filesystem::file_size(path_);
  std::filesystem::resize_file(path_, size - 100);
  EXPECT_EQ(error(), "truncated: the file has " + std::to_string(size - 100) +
                         " bytes, fewer than HDF5 recorded when writing it");
}

TEST_F(BadStore, TokenOutsideTheVocabulary) {
  StorePatch(path_).set_value("/train/tokens", 17, 150);
  EXPECT_EQ(error(), "/train/tokens[17] = 150 is not below vocab_size 100");
}

// Past 64Ki tokens the check reads 256 evenly spaced runs of 256 tokens:
// here (300001 tokens) the runs start every 1175 tokens, and the last one
// ends at the last token.
TEST(TokenStoreReader, SamplesRunsAcrossALargeSplit) {
  for (const std::uint64_t bad_index : {std::uint64_t{150'500}, std::uint64_t{300'000}}) {
    TempDir dir;
    const std::string path = dir.file("corpus.h5");
    write_store(path, 1000, {{Split::train, token_pattern(300'001, 1000)}});
    StorePatch(path).set_value("/train/tokens", bad_index, 1000);
    EXPECT_EQ(open_error(path), path + ": /train/tokens[" + std::to_string(bad_index) +
                                    "] = 1000 is not below vocab_size 1000");
  }
}

TEST_F(BadStore, FirstDocumentNotAtZero) {
  StorePatch(path_).set_value("/train/doc_offsets", 0, 1);
  EXPECT_EQ(error(), "/train/doc_offsets[0] is 1; the first document must start at 0");
}

TEST_F(BadStore, DocumentStartsOutOfOrder) {
  StorePatch(path_).set_value("/train/doc_offsets", 2, 10);
  EXPECT_EQ(error(), "/train/doc_offsets[2] = 10 does not ascend from /train/doc_offsets[1] = 10");
}

TEST_F(BadStore, DocumentStartPastTheEnd) {
  StorePatch(path_).set_value("/train/doc_offsets", 2, 30);
  EXPECT_EQ(error(), "/train/doc_offsets[2] = 30 is past the last of train's 30 tokens");
}

TEST_F(BadStore, TokensWithoutDocuments) {
  StorePatch(path_).replace_dataset("/val/doc_offsets", H5T_STD_U64LE, {});
  EXPECT_EQ(error(), "/val has 5 tokens but no documents");
}

TEST_F(BadStore, SourcesThatAreNotAList) {
  {
    StorePatch patch(path_);
    patch.delete_attribute("sources");
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 7);  // a fixed-length string, as some writers make
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute =
        H5Acreate2(patch.file(), "sources", type, space, H5P_DEFAULT, H5P_DEFAULT);
    hdf5_ok(H5Awrite(attribute, type, "{\"a\":1}"), "write sources");
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  EXPECT_EQ(error(),
            "attribute sources is not a JSON list of {name, bytes, crc32}: found a JSON object");
}

// The JSON attributes `loom inspect` and training parse: a foreign or
// corrupt one is refused on opening, naming the file, rather than later as
// a bare parse error. The store's vocab_size is 100.
struct JsonAttributeCase {
  const char* attribute;
  std::string value;
  std::string message;
};

void PrintTo(const JsonAttributeCase& json_case, std::ostream* out) {
  *out << json_case.attribute << " = " << json_case.value;
}

class BadJsonAttribute : public BadStore,
                         public ::testing::WithParamInterface<JsonAttributeCase> {};

TEST_P(BadJsonAttribute, IsRefusedWithItsName) {
  StorePatch(path_).set_string_attribute(GetParam().attribute, GetParam().value);
  EXPECT_EQ(error(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadJsonAttribute,
    ::testing::Values(
        JsonAttributeCase{"tokenizer", R"({"kind":"char",)",
                          "attribute 'tokenizer' is not valid JSON: "
                          "[json.exception.parse_error.101] parse error at line 1, column 16: "
                          "syntax error while parsing object key - unexpected end of input; "
                          "expected string literal"},
        JsonAttributeCase{"filters", "min_chars=10",
                          "attribute 'filters' is not valid JSON: "
                          "[json.exception.parse_error.101] parse error at line 1, column 1: "
                          "syntax error while parsing value - invalid literal; last read: 'm'"},
        JsonAttributeCase{"report", "",
                          "attribute 'report' is not valid JSON: "
                          "[json.exception.parse_error.101] parse error at line 1, column 1: "
                          "syntax error while parsing value - unexpected end of input; expected "
                          "'[', '{', or a literal"},
        JsonAttributeCase{"tokenizer", R"(["char",100])",
                          "attribute 'tokenizer' holds a JSON array; expected an object"},
        JsonAttributeCase{"tokenizer", R"({"vocab_size":100})",
                          "attribute 'tokenizer' has no field 'kind'"},
        JsonAttributeCase{"tokenizer", R"({"kind":5,"vocab_size":100})",
                          "attribute 'tokenizer' has field 'kind' = 5; expected a string"},
        JsonAttributeCase{"tokenizer", R"({"kind":"char"})",
                          "attribute 'tokenizer' has no field 'vocab_size'"},
        JsonAttributeCase{"tokenizer", R"({"kind":"char","vocab_size":"100"})",
                          "attribute 'tokenizer' has field 'vocab_size' = \"100\"; expected an "
                          "integer"},
        JsonAttributeCase{"tokenizer", R"({"kind":"char","vocab_size":100.0})",
                          "attribute 'tokenizer' has field 'vocab_size' = 100.0; expected an "
                          "integer"},
        JsonAttributeCase{"tokenizer", R"({"kind":"char","vocab_size":256})",
                          "attribute 'tokenizer' has field 'vocab_size' = 256, but attribute "
                          "'vocab_size' is 100"},
        JsonAttributeCase{"tokenizer", R"({"kind":"char","vocab_size":-100})",
                          "attribute 'tokenizer' has field 'vocab_size' = -100, but attribute "
                          "'vocab_size' is 100"},
        // Found by reading after the fuzzers found the same in the corpus
        // readers: nlohmann reports 1e400 as out_of_range, not parse_error.
        JsonAttributeCase{"tokenizer", R"({"kind":"char","vocab_size":1e400})",
                          "attribute 'tokenizer' is not valid JSON: "
                          "[json.exception.out_of_range.406] number overflow parsing '1e400'"},
        JsonAttributeCase{"filters", "[]",
                          "attribute 'filters' holds a JSON array; expected an object"},
        JsonAttributeCase{"report", "7",
                          "attribute 'report' holds a JSON number; expected an object"},
        // The sizes and checksums are read as the integers they must be:
        // nlohmann would convert a float or a wider number unchecked.
        JsonAttributeCase{"sources", R"([{"name":"a.txt","bytes":10,"crc32":1e30}])",
                          "attribute sources is not a JSON list of {name, bytes, crc32}: field "
                          "'crc32' is 1e+30; expected an integer from 0 to 4294967295"},
        JsonAttributeCase{"sources", R"([{"name":"a.txt","bytes":10,"crc32":4294967296}])",
                          "attribute sources is not a JSON list of {name, bytes, crc32}: field "
                          "'crc32' is 4294967296; expected an integer from 0 to 4294967295"},
        JsonAttributeCase{"sources", R"([{"name":"a.txt","bytes":-1,"crc32":0}])",
                          "attribute sources is not a JSON list of {name, bytes, crc32}: field "
                          "'bytes' is -1; expected an integer from 0 to 18446744073709551615"},
        JsonAttributeCase{"sources", R"([{"name":7,"bytes":1,"crc32":0}])",
                          "attribute sources is not a JSON list of {name, bytes, crc32}: field "
                          "'name' is 7; expected a string"},
        JsonAttributeCase{"sources", R"([{"name":"a.txt","crc32":0}])",
                          "attribute sources is not a JSON list of {name, bytes, crc32}: "
                          "[json.exception.out_of_range.403] key 'bytes' not found"},
        JsonAttributeCase{"checksums", R"([["/train/tokens",1,2]])",
                          "attribute checksums is not a JSON list of {dataset, bytes, crc32}: "
                          "an entry is a JSON array"},
        JsonAttributeCase{"checksums", R"([{"dataset":"/train/tokens","bytes":1e400,"crc32":0}])",
                          "attribute 'checksums' is not valid JSON: "
                          "[json.exception.out_of_range.406] number overflow parsing '1e400'"}));

}  // namespace
}  // namespace loom::data
