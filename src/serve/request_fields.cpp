#include "request_fields.hpp"

#include <limits>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/config/suggest.hpp"

namespace loom::serve::detail {

using nlohmann::json;

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ": the
// rest says where and what, which is what a client needs.
std::string without_exception_tag(const std::string& message) {
  const std::size_t tag_end = message.find("] ");
  return tag_end == std::string::npos ? message : message.substr(tag_end + 2);
}

}  // namespace

json parse_body_object(std::string_view body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double ("1e400").
    throw BadRequest("the body is not valid JSON: " + without_exception_tag(e.what()));
  }
  if (!parsed.is_object()) {
    throw BadRequest(fmt::format("the body must be a JSON object, got {}", parsed.type_name()));
  }
  return parsed;
}

std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kShownBytes = 60;
  if (text.size() > kShownBytes) text = text.substr(0, kShownBytes) + "...";
  return fmt::format("{} {}", value.type_name(), text);
}

void wrong_type(const std::string& field, const char* expected, const json& value) {
  throw BadRequest(fmt::format("'{}' must be {}, got {}", field, expected, shown(value)), field);
}

double number_field(const std::string& field, const json& value) {
  if (!value.is_number()) wrong_type(field, "a number", value);
  return value.get<double>();
}

std::int64_t integer_field(const std::string& field, const json& value) {
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      wrong_type(field, "an integer below 2^63", value);
    return static_cast<std::int64_t>(value.get<std::uint64_t>());
  }
  if (!value.is_number_integer()) wrong_type(field, "an integer", value);
  return value.get<std::int64_t>();
}

bool bool_field(const std::string& field, const json& value) {
  if (!value.is_boolean()) wrong_type(field, "true or false", value);
  return value.get<bool>();
}

std::string string_field(const std::string& field, const json& value) {
  if (!value.is_string()) wrong_type(field, "a string", value);
  return value.get<std::string>();
}

std::uint64_t seed_field(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  wrong_type("seed", "an integer from 0 to 2^64-1", value);
}

std::vector<std::string> stop_field(const json& value, std::size_t max_stop_strings) {
  std::vector<std::string> stop;
  if (value.is_string()) {
    stop.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& item : value) {
      if (!item.is_string()) wrong_type("stop", "a string or a list of strings", value);
      stop.push_back(item.get<std::string>());
    }
  } else {
    wrong_type("stop", "a string or a list of strings", value);
  }
  if (stop.size() > max_stop_strings) {
    throw BadRequest(fmt::format("'stop' holds {} strings; the server takes at most {}",
                                 stop.size(), max_stop_strings),
                     "stop");
  }
  for (std::size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) throw BadRequest(fmt::format("'stop' string {} is empty", i), "stop");
  }
  return stop;
}

void unknown_field(const std::string& field, const std::vector<std::string>& known) {
  if (const std::optional<std::size_t> match = config::closest_match(field, known)) {
    throw BadRequest(fmt::format("unknown field '{}'; did you mean '{}'?", field, known[*match]),
                     field);
  }
  throw BadRequest(
      fmt::format("unknown field '{}'; the fields are {}", field, fmt::join(known, ", ")), field);
}

void check_completion_request(const infer::CompletionOptions& options, const ServeLimits& limits) {
  const std::int64_t max_tokens = options.sampling.max_new_tokens;
  if (max_tokens < 0 || max_tokens > limits.max_tokens) {
    throw BadRequest(fmt::format("'max_tokens' must be from 0 to {} (the server's limit), got {}",
                                 limits.max_tokens, max_tokens),
                     "max_tokens");
  }
  try {
    infer::check_completion_options(options);
  } catch (const UsageError& e) {
    throw BadRequest(e.what());
  }
}

}  // namespace loom::serve::detail
