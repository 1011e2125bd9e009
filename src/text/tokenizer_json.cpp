// The JSON fields shared by every kind of tokenizer, and the checked reads
// that give tokenizer_from_json its error messages.
#include "tokenizer_json.hpp"

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::text::detail {
namespace {

nlohmann::json special_names() {
  nlohmann::json names = nlohmann::json::array();
  for (const char* name : kSpecialTokenNames)
    names.push_back(name);
  return names;
}

const nlohmann::json& json_field(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end()) throw_json_error(fmt::format("missing field '{}'", key));
  return *found;
}

[[noreturn]] void throw_wrong_type(const char* key, const char* expected,
                                   const nlohmann::json& found) {
  throw_json_error(
      fmt::format("field '{}' must be {}, got {}", key, expected, describe_json(found)));
}

}  // namespace

void throw_json_error(const std::string& what) {
  throw Error("tokenizer JSON: " + what);
}

std::string describe_json(const nlohmann::json& value) {
  if (value.is_structured()) return value.type_name();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::string& json_string(const nlohmann::json& object, const char* key) {
  const nlohmann::json& field = json_field(object, key);
  if (!field.is_string()) throw_wrong_type(key, "a string", field);
  return field.get_ref<const std::string&>();
}

std::uint64_t json_unsigned(const nlohmann::json& object, const char* key) {
  const nlohmann::json& field = json_field(object, key);
  // Numbers parsed from text are unsigned when they can be; ones set in
  // code from an int are signed.
  const bool non_negative =
      field.is_number_unsigned() || (field.is_number_integer() && field.get<std::int64_t>() >= 0);
  if (!non_negative) throw_wrong_type(key, "a non-negative integer", field);
  return field.get<std::uint64_t>();
}

const nlohmann::json& json_array(const nlohmann::json& object, const char* key) {
  const nlohmann::json& field = json_field(object, key);
  if (!field.is_array()) throw_wrong_type(key, "an array", field);
  return field;
}

nlohmann::json json_common_fields(std::string_view kind, std::uint32_t vocab_size) {
  return {{"kind", kind}, {"vocab_size", vocab_size}, {"specials", special_names()}};
}

void check_json_common_fields(const nlohmann::json& object, std::uint32_t actual_vocab_size) {
  const nlohmann::json& specials = json_array(object, "specials");
  if (specials != special_names()) {
    const auto as_text = [](const nlohmann::json& names) {
      return names.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    throw_json_error(fmt::format("field 'specials' must be {}, got {}", as_text(special_names()),
                                 as_text(specials)));
  }
  const std::uint64_t vocab_size = json_unsigned(object, "vocab_size");
  if (vocab_size != actual_vocab_size) {
    throw_json_error(fmt::format("field 'vocab_size' is {} but the {} vocabulary has {} ids",
                                 vocab_size, json_string(object, "kind"), actual_vocab_size));
  }
}

}  // namespace loom::text::detail
