// Parsing `POST /v1/generate` bodies: JSON syntax, then each field's type,
// then the values against the sampling rules and the server's limits.
#include "loom/serve/generate_request.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "request_fields.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loom::serve {
using nlohmann::json;
using namespace detail;

const std::vector<std::string>& generate_request_fields() {
  static const std::vector<std::string> fields = {
      "prompt", "max_tokens",  "temperature", "top_k", "top_p", "repetition_penalty",
      "stop",   "stop_at_eos", "seed",        "stream"};
  return fields;
}

GenerateRequest parse_generate_request(std::string_view body, const ServeLimits& limits,
                                       std::uint64_t drawn_seed) {
  const json parsed = parse_body_object(body);

  GenerateRequest request;
  infer::SamplingOptions& sampling = request.options.sampling;
  sampling.max_new_tokens = std::min(kDefaultMaxTokens, limits.max_tokens);
  sampling.seed = drawn_seed;
  sampling.stop_at_eos = true;  // as `loom sample`: a document's end ends the text
  for (const auto& [field, value] : parsed.items()) {
    if (field == "prompt") {
      request.prompt = string_field(field, value);
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
      unknown_field(field, generate_request_fields());
    }
  }

  check_completion_request(request.options, limits);
  return request;
}

}  // namespace loom::serve
