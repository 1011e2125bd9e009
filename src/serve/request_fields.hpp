// Reading the fields of a JSON request body, shared by the server's own
// /v1/generate and its OpenAI-compatible endpoints: each helper checks one
// value's type and range and throws BadRequest naming the field, the value
// and what was expected, e.g. "'n' must be an integer, got string \"2\"".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/serve/generate_request.hpp"

namespace loom::serve::detail {

// The body as a JSON object, or BadRequest saying why it is not one.
nlohmann::json parse_body_object(std::string_view body);

// How a value reads in an error: its type and a short, valid UTF-8 dump.
std::string shown(const nlohmann::json& value);

[[noreturn]] void wrong_type(const std::string& field, const char* expected,
                             const nlohmann::json& value);

double number_field(const std::string& field, const nlohmann::json& value);
std::int64_t integer_field(const std::string& field, const nlohmann::json& value);
bool bool_field(const std::string& field, const nlohmann::json& value);
std::string string_field(const std::string& field, const nlohmann::json& value);
std::uint64_t seed_field(const nlohmann::json& value);

// "stop": one string or a list of them, none empty, at most
// `max_stop_strings`.
std::vector<std::string> stop_field(const nlohmann::json& value, std::size_t max_stop_strings);

// BadRequest for a field no one knows, suggesting the closest of `known`.
[[noreturn]] void unknown_field(const std::string& field, const std::vector<std::string>& known);

// max_tokens within 0 and the server's limit, then the sampling rules
// (infer::check_completion_options), as BadRequest.
void check_completion_request(const infer::CompletionOptions& options, const ServeLimits& limits);

}  // namespace loom::serve::detail
