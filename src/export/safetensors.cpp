// Writing and checking safetensors files; the format is described in
// safetensors.hpp.
#include "loom/export/safetensors.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"

// Tensors are written from memory as they are: the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian data; this host would need byte swapping");

namespace loom::exporting {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr std::size_t kLengthBytes = 8;
// The data part starts at a multiple of this, as the reference writer does.
constexpr std::size_t kDataAlignment = 8;
// The reference implementation refuses longer headers; so does Loom, so a
// corrupt length cannot make it allocate gigabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

constexpr std::array<Dtype, 3> kDtypes = {Dtype::F32, Dtype::F16, Dtype::BF16};

std::string dtype_choices() {
  std::vector<std::string> names;
  for (const Dtype dtype : kDtypes)
    names.emplace_back(dtype_name(dtype));
  return fmt::format("{}", fmt::join(names, " | "));
}

// product(shape) x element size, or nullopt when a dimension is negative or
// the product overflows 64 bits.
std::optional<std::uint64_t> byte_size(const std::vector<std::int64_t>& shape, Dtype dtype) {
  std::uint64_t bytes = dtype_size(dtype);
  for (const std::int64_t dimension : shape) {
    if (dimension < 0) return std::nullopt;
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dimension), &bytes))
      return std::nullopt;
  }
  return bytes;
}

std::uint64_t checked_byte_size(const TensorBytes& tensor) {
  const std::optional<std::uint64_t> bytes = byte_size(tensor.shape, tensor.dtype);
  if (!bytes) {
    throw Error(fmt::format("safetensors: tensor '{}' has shape [{}]: dimensions must be >= 0",
                            tensor.name, fmt::join(tensor.shape, ", ")));
  }
  return *bytes;
}

void check_names(const std::vector<TensorBytes>& tensors) {
  std::set<std::string_view> seen;
  for (const TensorBytes& tensor : tensors) {
    if (tensor.name.empty()) throw Error("safetensors: a tensor has an empty name");
    if (tensor.name == kMetadataKey)
      throw Error(fmt::format("safetensors: a tensor may not be named '{}'", kMetadataKey));
    if (!seen.insert(tensor.name).second)
      throw Error(fmt::format("safetensors: tensor name '{}' is given twice", tensor.name));
  }
}

// The order of the tensors' bytes: larger elements first, so every tensor
// starts at a multiple of its element size; then by name, for stable bytes.
std::vector<const TensorBytes*> data_order(const std::vector<TensorBytes>& tensors) {
  std::vector<const TensorBytes*> order;
  for (const TensorBytes& tensor : tensors)
    order.push_back(&tensor);
  std::sort(order.begin(), order.end(), [](const TensorBytes* a, const TensorBytes* b) {
    const std::size_t a_size = dtype_size(a->dtype), b_size = dtype_size(b->dtype);
    return a_size != b_size ? a_size > b_size : a->name < b->name;
  });
  return order;
}

std::uint64_t read_little_endian_u64(const unsigned char* bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = kLengthBytes; i-- > 0;)
    value = (value << 8) | bytes[i];
  return value;
}

// --- reading -----------------------------------------------------------------

class HeaderReader {
 public:
  explicit HeaderReader(const fs::path& path) : path_(path) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: not a valid safetensors file: {}", path_.string(), what));
  }

  Metadata metadata(const json& value) const {
    if (!value.is_object()) {
      fail(fmt::format("'{}' is a {}, expected an object of strings", kMetadataKey,
                       value.type_name()));
    }
    Metadata metadata;
    for (const auto& [key, text] : value.items()) {
      if (!text.is_string()) {
        fail(fmt::format("'{}' entry '{}' is a {}, expected a string", kMetadataKey, key,
                         text.type_name()));
      }
      metadata[key] = text.get<std::string>();
    }
    return metadata;
  }

  TensorEntry tensor(const std::string& name, const json& value) const {
    const auto where = [&](const std::string& what) {
      fail(fmt::format("tensor '{}': {}", name, what));
    };
    if (!value.is_object() || value.size() != 3 || !value.contains("dtype") ||
        !value.contains("shape") || !value.contains("data_offsets")) {
      where(fmt::format("expected an object with exactly dtype, shape and data_offsets, got {}",
                        value.dump()));
    }
    TensorEntry entry;
    entry.name = name;
    const json& dtype = value["dtype"];
    const std::optional<Dtype> parsed =
        dtype.is_string() ? parse_dtype(dtype.get<std::string>()) : std::nullopt;
    if (!parsed) where(fmt::format("dtype {} is not one of {}", dtype.dump(), dtype_choices()));
    entry.dtype = *parsed;
    const json& shape = value["shape"];
    if (!shape.is_array()) where(fmt::format("shape {} is not an array", shape.dump()));
    for (const json& dimension : shape) {
      if (!dimension.is_number_unsigned() ||
          dimension.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        where(fmt::format("shape {} must hold integers >= 0", shape.dump()));
      }
      entry.shape.push_back(dimension.get<std::int64_t>());
    }
    const json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned() ||
        offsets[0].get<std::uint64_t>() > offsets[1].get<std::uint64_t>()) {
      where(fmt::format("data_offsets {} must be [begin, end] with 0 <= begin <= end",
                        offsets.dump()));
    }
    entry.begin = offsets[0].get<std::uint64_t>();
    entry.end = offsets[1].get<std::uint64_t>();
    const std::optional<std::uint64_t> expected = byte_size(entry.shape, entry.dtype);
    if (!expected || *expected != entry.end - entry.begin) {
      where(fmt::format("data_offsets {} hold {} bytes, but shape {} of {} needs {}",
                        offsets.dump(), entry.end - entry.begin, shape.dump(),
                        dtype_name(entry.dtype),
                        expected ? std::to_string(*expected) : std::string("more than 2^64")));
    }
    return entry;
  }

  // The tensors, sorted by begin, must tile [0, data_bytes).
  void check_coverage(const std::vector<TensorEntry>& tensors, std::uint64_t data_bytes) const {
    std::uint64_t next = 0;
    for (const TensorEntry& entry : tensors) {
      if (entry.begin != next) {
        fail(fmt::format(
            "tensor '{}' starts at byte {} of the data, expected {}: the tensors must cover the "
            "data without gaps or overlaps",
            entry.name, entry.begin, next));
      }
      next = entry.end;
    }
    if (next != data_bytes) {
      fail(fmt::format("the tensors end at byte {} of the data, but the data part holds {} bytes",
                       next, data_bytes));
    }
  }

 private:
  fs::path path_;
};

}  // namespace

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::F32:
      return "F32";
    case Dtype::F16:
      return "F16";
    case Dtype::BF16:
      return "BF16";
  }
  return "?";
}

std::size_t dtype_size(Dtype dtype) {
  return dtype == Dtype::F32 ? 4 : 2;
}

std::optional<Dtype> parse_dtype(std::string_view name) {
  for (const Dtype dtype : kDtypes)
    if (name == dtype_name(dtype)) return dtype;
  return std::nullopt;
}

std::string safetensors_header(const std::vector<TensorBytes>& tensors, const Metadata& metadata) {
  check_names(tensors);
  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const TensorBytes* tensor : data_order(tensors)) {
    const std::uint64_t bytes = checked_byte_size(*tensor);
    header[tensor->name] = {{"dtype", dtype_name(tensor->dtype)},
                            {"shape", tensor->shape},
                            {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  // Metadata may carry paths that are not valid UTF-8; JSON text must be.
  std::string text = header.dump(-1, ' ', false, json::error_handler_t::replace);
  text.append((kDataAlignment - (kLengthBytes + text.size()) % kDataAlignment) % kDataAlignment,
              ' ');
  std::string out(kLengthBytes, '\0');
  for (std::size_t i = 0; i < kLengthBytes; ++i)
    out[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xFF);
  return out + text;
}

void write_safetensors(const fs::path& path, const std::vector<TensorBytes>& tensors,
                       const Metadata& metadata) {
  const std::string header = safetensors_header(tensors, metadata);
  // Each write checked: a full disk is reported with its errno, naming the file.
  durable::FileWriter out(path);
  out.write(header);
  for (const TensorBytes* tensor : data_order(tensors))
    out.write(tensor->data, checked_byte_size(*tensor));
  out.close();
}

SafetensorsHeader read_safetensors_header(const fs::path& path) {
  const HeaderReader reader(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the file", path.string()));
  std::error_code error;
  const std::uint64_t file_bytes = fs::file_size(path, error);
  if (error)
    throw Error(fmt::format("{}: cannot read its size ({})", path.string(), error.message()));
  if (file_bytes < kLengthBytes) {
    reader.fail(
        fmt::format("the file holds {} bytes, fewer than the 8 of the header length", file_bytes));
  }
  std::array<unsigned char, kLengthBytes> length_bytes{};
  in.read(reinterpret_cast<char*>(length_bytes.data()), kLengthBytes);
  const std::uint64_t header_bytes = read_little_endian_u64(length_bytes.data());
  if (header_bytes > kMaxHeaderBytes) {
    reader.fail(fmt::format("header length {} is over safetensors' limit of {} bytes", header_bytes,
                            kMaxHeaderBytes));
  }
  if (header_bytes > file_bytes - kLengthBytes) {
    reader.fail(fmt::format("header length {} runs past the end of the file ({} bytes)",
                            header_bytes, file_bytes));
  }
  std::string text(header_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_bytes));
  if (!in) throw Error(fmt::format("{}: reading the header failed", path.string()));

  const json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) reader.fail("the header is not valid JSON");
  if (!header.is_object())
    reader.fail(fmt::format("the header is a JSON {}, expected an object", header.type_name()));
  SafetensorsHeader result;
  result.data_start = kLengthBytes + header_bytes;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      result.metadata = reader.metadata(value);
    } else {
      result.tensors.push_back(reader.tensor(key, value));
    }
  }
  std::sort(result.tensors.begin(), result.tensors.end(),
            [](const TensorEntry& a, const TensorEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  reader.check_coverage(result.tensors, file_bytes - result.data_start);
  return result;
}

}  // namespace loom::exporting
