// The safetensors file format, written and checked by Loom itself (no
// library): what `loom export` stores a model's weights in, so that Python
// tools (the safetensors package, Hugging Face, or numpy alone, see
// scripts/load_safetensors.py) can load them without LibTorch's pickles.
//
// A file is three parts, back to back:
//
//   8 bytes   N, the header's length in bytes, unsigned little-endian
//   N bytes   the header: a JSON object with, for each tensor,
//               "name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}
//             and "__metadata__": {"key": "value", ...} (strings only),
//             padded with spaces so that the data starts at a multiple of 8
//   the rest  the tensors' bytes, row-major and little-endian; data_offsets
//             count from the start of this part, and the tensors cover it
//             exactly, without gaps or overlaps
//
// Loom writes the tensors' bytes in order of decreasing element size, then by
// name, so each tensor starts at a multiple of its element size (the data
// part starts 8-aligned), which lets readers map them without copying. The
// header's keys are sorted (nlohmann::json's order), so the same tensors
// always give the same bytes.
//
// The module's namespace is loom::exporting because `export` is a C++ keyword.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::exporting {

// The element types Loom exports, with safetensors' names for them.
enum class Dtype { F32, F16, BF16 };

const char* dtype_name(Dtype dtype);  // "F32", "F16", "BF16"
std::size_t dtype_size(Dtype dtype);  // bytes per element
std::optional<Dtype> parse_dtype(std::string_view name);

// The "__metadata__" map: free-form string pairs.
using Metadata = std::map<std::string, std::string>;

// One tensor to write. The bytes stay the caller's: `data` must hold
// product(shape) x dtype_size(dtype) bytes, little-endian, row-major, until
// the write returns.
struct TensorBytes {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;  // empty for a scalar
  const void* data = nullptr;
};

// The first two parts of the file: the 8-byte length and the padded JSON
// header. Throws loom::Error naming the tensor when a name is empty,
// "__metadata__" or given twice, or when a dimension is negative.
std::string safetensors_header(const std::vector<TensorBytes>& tensors, const Metadata& metadata);

// Writes the whole file at `path` (created or truncated). Throws loom::Error
// for the cases safetensors_header() refuses and when writing fails, naming
// the path.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                       const Metadata& metadata);

// One tensor as a header describes it; offsets count from the data part.
struct TensorEntry {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // in data order (by begin)
  Metadata metadata;
  std::uint64_t data_start = 0;  // file offset of the data part: 8 + N
};

// Reads and checks the header of the file at `path` without reading the
// tensors: the length fits the file (and safetensors' 100 MB limit), the
// header is a JSON object of the shape above, each dtype is one of Dtype,
// each tensor's byte count matches its shape, and the tensors cover the
// data part exactly. Throws loom::Error naming the file and what is wrong.
SafetensorsHeader read_safetensors_header(const std::filesystem::path& path);

}  // namespace loom::exporting
