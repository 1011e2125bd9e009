// tokenizer_from_json: reads the kind and hands the JSON to that kind's
// reader, so a run directory or token store rebuilds the exact tokenizer it
// was made with.
#include "loom/text/tokenizer.hpp"

#include "tokenizer_json.hpp"
#include "tokenizer_kinds.hpp"
#include <fmt/format.h>

namespace loom::text {

std::unique_ptr<Tokenizer> tokenizer_from_json(const nlohmann::json& json) {
  if (!json.is_object()) {
    detail::throw_json_error(fmt::format("expected an object, got {}", json.type_name()));
  }
  const std::string& kind = detail::json_string(json, "kind");
  if (kind == "char") return detail::char_tokenizer_from_json(json);
  if (kind == "byte") return detail::byte_tokenizer_from_json(json);
  if (kind == "bpe" || kind == "unigram") return detail::sentencepiece_tokenizer_from_json(json);
  detail::throw_json_error(
      fmt::format("unknown kind '{}', expected one of char, byte, bpe, unigram", kind));
}

}  // namespace loom::text
