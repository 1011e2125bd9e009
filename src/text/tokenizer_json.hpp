// Private to the text module: reading and writing the fields every kind of
// tokenizer keeps in its JSON, with errors that start "tokenizer JSON: " and
// name the field, what was found and what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace loom::text::detail {

// Throws loom::Error("tokenizer JSON: " + what).
[[noreturn]] void throw_json_error(const std::string& what);

// A JSON value as an error message shows it: scalars as JSON text (invalid
// UTF-8 replaced), arrays and objects by their type.
std::string describe_json(const nlohmann::json& value);

// The field `key` of `object`, which must be there with the type named.
const std::string& json_string(const nlohmann::json& object, const char* key);
std::uint64_t json_unsigned(const nlohmann::json& object, const char* key);
const nlohmann::json& json_array(const nlohmann::json& object, const char* key);

// The fields every kind writes: kind, vocab_size and the special tokens'
// names, which pin ids 0-3 for anyone reading the file.
nlohmann::json json_common_fields(std::string_view kind, std::uint32_t vocab_size);

// Checks what json_common_fields wrote against the tokenizer rebuilt from
// the rest: the special tokens, and vocab_size against `actual_vocab_size`.
void check_json_common_fields(const nlohmann::json& object, std::uint32_t actual_vocab_size);

}  // namespace loom::text::detail
