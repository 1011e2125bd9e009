// Metadata encodings of the token store; see store_layout.hpp.
#include "store_layout.hpp"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loom::data::store_detail {

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
  return list.dump();
}

std::vector<SourceFile> sources_from_json(const std::string& json, const std::string& file) {
  auto invalid = [&](const std::string& reason) {
    return StoreError(fmt::format(
        "{}: attribute sources is not a JSON list of {{name, bytes, crc32}}: {}", file, reason));
  };
  try {
    const nlohmann::json list = nlohmann::json::parse(json);
    if (!list.is_array()) throw invalid(fmt::format("found a JSON {}", list.type_name()));
    std::vector<SourceFile> sources;
    for (const nlohmann::json& entry : list) {
      SourceFile source;
      source.name = entry.at("name").get<std::string>();
      source.bytes = entry.at("bytes").get<std::uint64_t>();
      source.crc32 = entry.at("crc32").get<std::uint32_t>();
      sources.push_back(std::move(source));
    }
    return sources;
  } catch (const nlohmann::json::exception& e) {
    throw invalid(e.what());
  }
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
