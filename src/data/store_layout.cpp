// Metadata encodings of the token store; see store_layout.hpp.
#include "store_layout.hpp"

#include <ctime>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loom::data::store_detail {
namespace {

// The attribute's text as JSON; StoreError when it does not parse (nlohmann
// reports a number beyond a double, such as 1e400, as out_of_range rather
// than parse_error, hence the base class).
nlohmann::json parse_attribute(const std::string& json, const char* name, const std::string& file) {
  try {
    return nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw StoreError(fmt::format("{}: attribute '{}' is not valid JSON: {}", file, name, e.what()));
  }
}

// An attribute that must hold a JSON object (filters, report).
void check_object_attribute(const std::string& json, const char* name, const std::string& file) {
  const nlohmann::json value = parse_attribute(json, name, file);
  if (!value.is_object()) {
    throw StoreError(fmt::format("{}: attribute '{}' holds a JSON {}; expected an object", file,
                                 name, value.type_name()));
  }
}

// A JSON value as a message shows it: scalars as JSON text, arrays and
// objects by their type.
std::string describe(const nlohmann::json& value) {
  if (value.is_structured()) return value.type_name();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json& tokenizer_field(const nlohmann::json& tokenizer, const char* key,
                                      const std::string& file) {
  const auto found = tokenizer.find(key);
  if (found == tokenizer.end()) {
    throw StoreError(
        fmt::format("{}: attribute '{}' has no field '{}'", file, kTokenizerAttribute, key));
  }
  return *found;
}

[[noreturn]] void throw_wrong_field(const char* key, const nlohmann::json& found,
                                    const char* expected, const std::string& file) {
  throw StoreError(fmt::format("{}: attribute '{}' has field '{}' = {}; expected {}", file,
                               kTokenizerAttribute, key, describe(found), expected));
}

// Only what the store itself relies on: the kind names the tokenizer to
// rebuild, and its vocabulary must be the one the token ids were checked
// against. The rest is the text module's to judge.
void check_tokenizer(const nlohmann::json& tokenizer, std::uint32_t vocab_size,
                     const std::string& file) {
  if (!tokenizer.is_object()) {
    throw StoreError(fmt::format("{}: attribute '{}' holds a JSON {}; expected an object", file,
                                 kTokenizerAttribute, tokenizer.type_name()));
  }
  const nlohmann::json& kind = tokenizer_field(tokenizer, "kind", file);
  if (!kind.is_string()) throw_wrong_field("kind", kind, "a string", file);
  const nlohmann::json& tokenizer_vocab = tokenizer_field(tokenizer, "vocab_size", file);
  if (!tokenizer_vocab.is_number_integer()) {
    throw_wrong_field("vocab_size", tokenizer_vocab, "an integer", file);
  }
  // Non-negative numbers parse as unsigned; a negative one cannot match.
  if (!tokenizer_vocab.is_number_unsigned() || tokenizer_vocab.get<std::uint64_t>() != vocab_size) {
    throw StoreError(fmt::format(
        "{}: attribute '{}' has field 'vocab_size' = {}, but attribute '{}' is {}", file,
        kTokenizerAttribute, tokenizer_vocab.dump(), kVocabSizeAttribute, vocab_size));
  }
}

// One entry of the sources or checksums attribute: a name (a file or a
// dataset) with its size and CRC-32.
struct NamedChecksum {
  std::string name;
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

// An unsigned integer of at most `max`. nlohmann's get<>() converts a float
// or a wider number unchecked (undefined for a float out of range), so the
// type and range are checked here.
std::uint64_t unsigned_field(const nlohmann::json& entry, const char* key, std::uint64_t max) {
  const nlohmann::json& value = entry.at(key);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > max) {
    throw std::invalid_argument(fmt::format("field '{}' is {}; expected an integer from 0 to {}",
                                            key, describe(value), max));
  }
  return value.get<std::uint64_t>();
}

// A JSON list of {name_key, "bytes", "crc32"}; StoreError naming `file` and
// `attribute` when it is anything else.
std::vector<NamedChecksum> named_checksums_from_json(const std::string& json, const char* attribute,
                                                     const char* name_key,
                                                     const std::string& file) {
  auto invalid = [&](const std::string& reason) {
    return StoreError(fmt::format("{}: attribute {} is not a JSON list of {{{}, bytes, crc32}}: {}",
                                  file, attribute, name_key, reason));
  };
  const nlohmann::json list = parse_attribute(json, attribute, file);
  if (!list.is_array()) throw invalid(fmt::format("found a JSON {}", list.type_name()));
  std::vector<NamedChecksum> entries;
  for (const nlohmann::json& entry : list) {
    try {
      if (!entry.is_object())
        throw std::invalid_argument(fmt::format("an entry is a JSON {}", entry.type_name()));
      const nlohmann::json& name = entry.at(name_key);
      if (!name.is_string()) {
        throw std::invalid_argument(
            fmt::format("field '{}' is {}; expected a string", name_key, describe(name)));
      }
      entries.push_back({name.get<std::string>(),
                         unsigned_field(entry, "bytes", std::numeric_limits<std::uint64_t>::max()),
                         static_cast<std::uint32_t>(unsigned_field(
                             entry, "crc32", std::numeric_limits<std::uint32_t>::max()))});
    } catch (const nlohmann::json::exception& e) {
      throw invalid(e.what());
    } catch (const std::invalid_argument& e) {
      throw invalid(e.what());
    }
  }
  return entries;
}

}  // namespace

std::optional<TokenDtype> dtype_from_name(const std::string& name) {
  for (TokenDtype dtype : {TokenDtype::u8, TokenDtype::u16, TokenDtype::u32}) {
    if (name == dtype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

std::string sources_to_json(const std::vector<SourceFile>& sources) {
  nlohmann::json list = nlohmann::json::array();
  for (const SourceFile& source : sources) {
    list.push_back({{"name", source.name}, {"bytes", source.bytes}, {"crc32", source.crc32}});
  }
  // Names are file paths as given, which need not be UTF-8 (a Latin-1 file
  // name); replacing bad bytes with U+FFFD keeps them from failing commit.
  return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<SourceFile> sources_from_json(const std::string& json, const std::string& file) {
  std::vector<SourceFile> sources;
  for (NamedChecksum& entry : named_checksums_from_json(json, kSourcesAttribute, "name", file)) {
    sources.push_back({std::move(entry.name), entry.bytes, entry.crc32});
  }
  return sources;
}

std::string checksums_to_json(const std::vector<DatasetChecksum>& checksums) {
  nlohmann::json list = nlohmann::json::array();
  for (const DatasetChecksum& checksum : checksums) {
    list.push_back(
        {{"dataset", checksum.dataset}, {"bytes", checksum.bytes}, {"crc32", checksum.crc32}});
  }
  return list.dump();
}

std::vector<DatasetChecksum> checksums_from_json(const std::string& json, const std::string& file) {
  std::vector<DatasetChecksum> checksums;
  for (NamedChecksum& entry :
       named_checksums_from_json(json, kChecksumsAttribute, "dataset", file)) {
    checksums.push_back({std::move(entry.name), entry.bytes, entry.crc32});
  }
  return checksums;
}

void check_json_attributes(const StoreMetadata& metadata, const std::string& file) {
  check_tokenizer(parse_attribute(metadata.tokenizer_json, kTokenizerAttribute, file),
                  metadata.vocab_size, file);
  check_object_attribute(metadata.filters_json, kFiltersAttribute, file);
  check_object_attribute(metadata.report_json, kReportAttribute, file);
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace loom::data::store_detail
