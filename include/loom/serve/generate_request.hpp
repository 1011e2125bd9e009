// The body of `POST /v1/generate`: a JSON object with the prompt and the
// sampling parameters, checked field by field against the server's limits
// before any work starts, so a bad request costs nothing and its error says
// which field is wrong and what was expected.
//
//   {"prompt": "ROMEO:", "max_tokens": 200, "temperature": 0.8, "top_k": 0,
//    "top_p": 1, "repetition_penalty": 1, "stop": ["\n\n"], "seed": 7,
//    "stop_at_eos": true, "stream": true}
//
// Every field is optional. Without a seed the server draws one and reports
// it, so any text can be generated again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/infer/text_completion.hpp"

namespace loom::serve {

// What one server accepts; `loom serve` flags set them.
struct ServeLimits {
  std::size_t max_body_bytes = 1 << 20;  // a request body above this is refused (413)
  std::int64_t max_tokens = 2048;        // the largest max_tokens a request may ask for
  int max_concurrent = 2;                // generations at once; more are refused (503)
  std::size_t max_stop_strings = 16;
  // Texts one OpenAI-style request may ask for (its prompts times n).
  std::int64_t max_choices = 16;
  int write_timeout_seconds = 20;  // a client that reads nothing this long is dropped
};

// max_tokens when a request does not say (or the server's limit, if lower).
inline constexpr std::int64_t kDefaultMaxTokens = 200;

struct GenerateRequest {
  std::string prompt;
  infer::CompletionOptions options;  // seed always set
  bool stream = false;               // server-sent events instead of one JSON reply
};

// A request that cannot be served as sent: HTTP 400 with this message.
// `param` names the field at fault, when one is (OpenAI's error "param").
class BadRequest : public Error {
 public:
  explicit BadRequest(const std::string& message, std::string param = {})
      : Error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// The fields a request may have, in the order the API documents them.
const std::vector<std::string>& generate_request_fields();

// Parses and checks a request body; `drawn_seed` is the seed when the
// request gives none. Throws BadRequest naming the field, its value and
// what was expected, e.g. "'temperature' must be >= 0, got -1".
GenerateRequest parse_generate_request(std::string_view body, const ServeLimits& limits,
                                       std::uint64_t drawn_seed);

}  // namespace loom::serve
