// The safetensors writer byte for byte, the header reader on what the writer
// wrote, the alignment of every tensor, and each refusal with its message.
#include "loom/export/safetensors.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::exporting {
namespace {

using namespace loom::test;

// A header length as the file's first 8 bytes.
std::string length_bytes(std::uint64_t length) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xFF);
  return bytes;
}

// A file made of `header` (as JSON text, unpadded) and `data`.
std::string file_with_header(const std::string& header, const std::string& data) {
  return length_bytes(header.size()) + header + data;
}

TEST(Safetensors, WritesTheExactBytesOfATinyFile) {
  const float values[] = {1.0F, -2.0F};
  TempDir dir;
  write_safetensors(dir.file("a.safetensors"), {{"a", Dtype::F32, {2}, values}},
                    {{"format", "pt"}});
  // 85 bytes of JSON, padded with 3 spaces so the data starts at byte 96.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  const std::string expected = std::string("\x58\0\0\0\0\0\0\0", 8) + json + "   " +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  EXPECT_EQ(read_file(dir.file("a.safetensors")), expected);
}

TEST(Safetensors, LeavesOutEmptyMetadata) {
  const std::uint16_t value = 0x3C00;  // 1.0 in fp16
  EXPECT_EQ(safetensors_header({{"x", Dtype::F16, {}, &value}}, {}),
            length_bytes(56) + R"({"x":{"data_offsets":[0,2],"dtype":"F16","shape":[]}})" + "   ");
}

TEST(Safetensors, PutsLargerElementsFirstSoEveryTensorIsAligned) {
  const std::uint16_t halves[3] = {1, 2, 3};
  const float single = 4.0F;
  const std::uint16_t brain = 5;
  TempDir dir;
  // Given as F16, BF16, F32: the F32 tensor must come first, or it would
  // start at byte 6 or 8 + 2 of the data.
  const std::vector<TensorBytes> tensors = {{"a_half", Dtype::F16, {3}, halves},
                                            {"b_brain", Dtype::BF16, {1, 1}, &brain},
                                            {"c_single", Dtype::F32, {1}, &single}};
  for (const char* note : {"", "x", "xy", "xyz", "wxyz", "vwxyz", "uvwxyz", "tuvwxyz"}) {
    write_safetensors(dir.file("t.safetensors"), tensors, {{"note", note}});
    const SafetensorsHeader header = read_safetensors_header(dir.file("t.safetensors"));
    EXPECT_EQ(header.data_start % 8, 0U) << note;
    ASSERT_EQ(header.tensors.size(), 3U);
    EXPECT_EQ(header.tensors[0].name, "c_single");
    EXPECT_EQ(header.tensors[0].begin, 0U);
    EXPECT_EQ(header.tensors[1].name, "a_half");
    EXPECT_EQ(header.tensors[1].begin, 4U);
    EXPECT_EQ(header.tensors[2].name, "b_brain");
    EXPECT_EQ(header.tensors[2].begin, 10U);
    EXPECT_EQ(header.tensors[2].end, 12U);
  }
}

TEST(Safetensors, ReadsBackWhatItWrote) {
  const float matrix[2][3] = {{1, 2, 3}, {4, 5, 6}};
  const std::uint16_t bf16[2] = {0x3F80, 0xC000};  // 1.0, -2.0
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  write_safetensors(path,
                    {{"layer.weight", Dtype::F32, {2, 3}, matrix},
                     {"layer.bias", Dtype::BF16, {2}, bf16},
                     {"empty", Dtype::F32, {0, 4}, nullptr}},
                    {{"format", "pt"}, {"alias:head", "layer.weight"}});
  const SafetensorsHeader header = read_safetensors_header(path);
  EXPECT_EQ(header.metadata, (Metadata{{"format", "pt"}, {"alias:head", "layer.weight"}}));
  ASSERT_EQ(header.tensors.size(), 3U);
  // The empty tensor, [0, 0), comes before layer.weight, [0, 24).
  EXPECT_EQ(header.tensors[0].name, "empty");
  EXPECT_EQ(header.tensors[0].shape, (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(header.tensors[0].end, 0U);
  const TensorEntry& weight = header.tensors[1];
  EXPECT_EQ(weight.name, "layer.weight");
  EXPECT_EQ(weight.dtype, Dtype::F32);
  EXPECT_EQ(weight.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(weight.end - weight.begin, 24U);
  const TensorEntry& bias = header.tensors[2];
  EXPECT_EQ(bias.name, "layer.bias");
  EXPECT_EQ(bias.dtype, Dtype::BF16);

  const std::string bytes = read_file(path);
  EXPECT_EQ(bytes.size(), header.data_start + 28);
  EXPECT_EQ(std::memcmp(bytes.data() + header.data_start + weight.begin, matrix, 24), 0);
  EXPECT_EQ(std::memcmp(bytes.data() + header.data_start + bias.begin, bf16, 4), 0);
}

TEST(Safetensors, DtypeNamesRoundTrip) {
  for (const Dtype dtype : {Dtype::F32, Dtype::F16, Dtype::BF16})
    EXPECT_EQ(parse_dtype(dtype_name(dtype)), dtype);
  EXPECT_EQ(dtype_size(Dtype::F32), 4U);
  EXPECT_EQ(dtype_size(Dtype::BF16), 2U);
  EXPECT_EQ(parse_dtype("f32"), std::nullopt);
}

TEST(Safetensors, RefusesTensorsItCannotName) {
  const float value = 0;
  const auto header_of = [&](std::vector<TensorBytes> tensors) {
    return error_message<Error>([&] { safetensors_header(tensors, {}); });
  };
  EXPECT_EQ(header_of({{"", Dtype::F32, {1}, &value}}), "safetensors: a tensor has an empty name");
  EXPECT_EQ(header_of({{"__metadata__", Dtype::F32, {1}, &value}}),
            "safetensors: a tensor may not be named '__metadata__'");
  EXPECT_EQ(header_of({{"w", Dtype::F32, {1}, &value}, {"w", Dtype::F16, {1}, &value}}),
            "safetensors: tensor name 'w' is given twice");
  EXPECT_EQ(header_of({{"w", Dtype::F32, {2, -1}, &value}}),
            "safetensors: tensor 'w' has shape [2, -1]: dimensions must be >= 0");
}

class SafetensorsReader : public ::testing::Test {
 protected:
  // The reader's message for a file holding `bytes`.
  std::string error_for(const std::string& bytes) {
    write_file(path_, bytes);
    return error_message<Error>([&] { read_safetensors_header(path_); });
  }
  std::string prefix() const { return path_ + ": not a valid safetensors file: "; }

  TempDir dir_;
  const std::string path_ = dir_.file("bad.safetensors");
};

TEST_F(SafetensorsReader, RefusesABadLengthOrHeader) {
  EXPECT_EQ(error_for(std::string("\x05\0\0", 3)),
            prefix() + "the file holds 3 bytes, fewer than the 8 of the header length");
  EXPECT_EQ(error_for(length_bytes(100'000'001)),
            prefix() + "header length 100000001 is over safetensors' limit of 100000000 bytes");
  EXPECT_EQ(error_for(length_bytes(10) + "{}"),
            prefix() + "header length 10 runs past the end of the file (10 bytes)");
  EXPECT_EQ(error_for(file_with_header("{\"a\":", "")), prefix() + "the header is not valid JSON");
  EXPECT_EQ(error_for(file_with_header("[1]", "")),
            prefix() + "the header is a JSON array, expected an object");
  EXPECT_EQ(error_for(file_with_header(R"({"__metadata__":{"n":1}})", "")),
            prefix() + "'__metadata__' entry 'n' is a number, expected a string");
  EXPECT_EQ(error_for(std::string("\0\0\0\0\0\0\0\0", 8)),
            prefix() + "the header is not valid JSON");
}

TEST_F(SafetensorsReader, RefusesTensorsThatDoNotFitTheirData) {
  EXPECT_EQ(error_for(file_with_header(R"({"w":{"dtype":"F32","shape":[1]}})", "")),
            prefix() +
                "tensor 'w': expected an object with exactly dtype, shape and data_offsets, got "
                R"({"dtype":"F32","shape":[1]})");
  EXPECT_EQ(error_for(file_with_header(R"({"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                                       std::string(8, '\0'))),
            prefix() + "tensor 'w': dtype \"I64\" is not one of F32 | F16 | BF16");
  EXPECT_EQ(error_for(file_with_header(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                                       std::string(4, '\0'))),
            prefix() + "tensor 'w': shape [-1] must hold integers >= 0");
  EXPECT_EQ(
      error_for(file_with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
                                 std::string(4, '\0'))),
      prefix() + "tensor 'w': data_offsets [4,0] must be [begin, end] with 0 <= begin <= end");
  EXPECT_EQ(error_for(file_with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                                       std::string(4, '\0'))),
            prefix() + "tensor 'w': data_offsets [0,4] hold 4 bytes, but shape [2] of F32 needs 8");
  EXPECT_EQ(error_for(file_with_header(R"({"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},)"
                                       R"("b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}})",
                                       std::string(6, '\0'))),
            prefix() +
                "tensor 'b' starts at byte 4 of the data, expected 2: the tensors must cover the "
                "data without gaps or overlaps");
  EXPECT_EQ(error_for(file_with_header(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                       std::string(6, '\0'))),
            prefix() + "the tensors end at byte 4 of the data, but the data part holds 6 bytes");
}

TEST(Safetensors, ReaderNamesAMissingFile) {
  TempDir dir;
  EXPECT_EQ(error_message<Error>([&] { read_safetensors_header(dir.file("none")); }),
            dir.file("none") + ": cannot open the file");
}

}  // namespace
}  // namespace loom::exporting
