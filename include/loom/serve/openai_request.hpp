// The bodies of OpenAI's `POST /v1/completions` and `POST
// /v1/chat/completions`, as Loom's server takes them. Every field OpenAI
// documents for them is either honoured or, when it asks for something
// Loom cannot do (penalties, tools, a suffix), refused with a BadRequest
// naming it; a field at its neutral value (presence_penalty: 0) is
// accepted. Beside OpenAI's fields, top_k and repetition_penalty (Loom's
// sampler; vLLM takes them too).
//
// Log-probabilities as OpenAI's: completions' "logprobs": N lists each
// token's and the N likeliest at its step (with echo, the prompt's tokens
// scored too); chat's "logprobs": true with "top_logprobs": N. N is at most
// kMaxTopLogprobs for both (OpenAI's chat limit; its completions stop at 5).
//
// Defaults as OpenAI's: max_tokens 16 for completions, and for chat the
// server's default (200, or its limit); temperature 1, top_p 1, n 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/infer/text_completion.hpp"
#include "loom/serve/chat_template.hpp"
#include "loom/serve/generate_request.hpp"

namespace loom::serve {

// OpenAI's documented default for /v1/completions.
inline constexpr std::int64_t kOpenAiCompletionDefaultMaxTokens = 16;
// The most likeliest tokens a request may ask for per step.
inline constexpr std::int64_t kMaxTopLogprobs = 20;

struct OpenAiRequest {
  std::string model;
  // Completions: the prompts (a string is one); chat: the chat laid out by
  // the template, one prompt.
  std::vector<std::string> prompts;
  std::int64_t n = 1;  // texts per prompt
  bool echo = false;   // completions: each text starts with its prompt
  bool stream = false;
  bool include_usage = false;        // stream_options.include_usage: a last chunk with the counts
  infer::CompletionOptions options;  // seed always set; chat: stops at the message's end
};

OpenAiRequest parse_completions_request(std::string_view body, const ServeLimits& limits,
                                        std::uint64_t drawn_seed);

OpenAiRequest parse_chat_request(std::string_view body, const ServeLimits& limits,
                                 std::uint64_t drawn_seed, const ChatTemplate& chat);

}  // namespace loom::serve
