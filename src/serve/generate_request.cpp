// Parsing `POST /v1/generate` bodies: JSON syntax, then each field's type,
// then the values against the sampling rules and the server's limits.
#include "loom/serve/generate_request.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/config/suggest.hpp"

namespace loom::serve {
namespace {

using nlohmann::json;

// nlohmann's messages start with "[json.exception.parse_error.101] ": the
// rest says where and what, which is what a client needs.
std::string without_exception_tag(const std::string& message) {
  const std::size_t tag_end = message.find("] ");
  return tag_end == std::string::npos ? message : message.substr(tag_end + 2);
}

// How a value reads in an error: short and always valid UTF-8.
std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kShownBytes = 60;
  if (text.size() > kShownBytes) text = text.substr(0, kShownBytes) + "...";
  return fmt::format("{} {}", value.type_name(), text);
}

[[noreturn]] void wrong_type(const std::string& field, const char* expected, const json& value) {
  throw BadRequest(fmt::format("'{}' must be {}, got {}", field, expected, shown(value)));
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

std::uint64_t seed_field(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  wrong_type("seed", "an integer from 0 to 2^64-1", value);
}

// "stop": one string or a list of them.
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
                                 stop.size(), max_stop_strings));
  }
  for (std::size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) throw BadRequest(fmt::format("'stop' string {} is empty", i));
  }
  return stop;
}

[[noreturn]] void unknown_field(const std::string& field) {
  const std::vector<std::string>& known = generate_request_fields();
  if (const std::optional<std::size_t> match = config::closest_match(field, known)) {
    throw BadRequest(fmt::format("unknown field '{}'; did you mean '{}'?", field, known[*match]));
  }
  throw BadRequest(
      fmt::format("unknown field '{}'; the fields are {}", field, fmt::join(known, ", ")));
}

}  // namespace

const std::vector<std::string>& generate_request_fields() {
  static const std::vector<std::string> fields = {
      "prompt", "max_tokens",  "temperature", "top_k", "top_p", "repetition_penalty",
      "stop",   "stop_at_eos", "seed",        "stream"};
  return fields;
}

GenerateRequest parse_generate_request(std::string_view body, const ServeLimits& limits,
                                       std::uint64_t drawn_seed) {
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

  GenerateRequest request;
  infer::SamplingOptions& sampling = request.options.sampling;
  sampling.max_new_tokens = std::min(kDefaultMaxTokens, limits.max_tokens);
  sampling.seed = drawn_seed;
  sampling.stop_at_eos = true;  // as `loom sample`: a document's end ends the text
  for (const auto& [field, value] : parsed.items()) {
    if (field == "prompt") {
      if (!value.is_string()) wrong_type(field, "a string", value);
      request.prompt = value.get<std::string>();
    } else if (field == "max_tokens") {
      sampling.max_new_tokens = integer_field(field, value);
    } else if (field == "temperature") {
      sampling.temperature = number_field(field, value);
    } else if (field == "top_k") {
      sampling.top_k = integer_field(field, value);
    } else if (field == "top_p") {
      sampling.top_p = number_field(field, value);
    } else if (field == "repetition_penalty") {
      sampling.repetition_penalty = number_field(field, value);
    } else if (field == "stop") {
      request.options.stop = stop_field(value, limits.max_stop_strings);
    } else if (field == "stop_at_eos") {
      sampling.stop_at_eos = bool_field(field, value);
    } else if (field == "seed") {
      sampling.seed = seed_field(value);
    } else if (field == "stream") {
      request.stream = bool_field(field, value);
    } else {
      unknown_field(field);
    }
  }

  if (sampling.max_new_tokens < 0 || sampling.max_new_tokens > limits.max_tokens) {
    throw BadRequest(fmt::format("'max_tokens' must be from 0 to {} (the server's limit), got {}",
                                 limits.max_tokens, sampling.max_new_tokens));
  }
  try {
    infer::check_completion_options(request.options);
  } catch (const UsageError& e) {
    throw BadRequest(e.what());
  }
  return request;
}

}  // namespace loom::serve
