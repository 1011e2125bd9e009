// The JSON shapes of OpenAI's API that Loom's server sends: completions and
// chat completions whole or as stream chunks, usage counts, the model
// list, and errors. Only shapes: what goes in them is the server's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/infer/sampling.hpp"
#include "loom/infer/text_completion.hpp"

namespace loom::serve::detail {

enum class OpenAiEndpoint { completions, chat_completions };

// What every reply and chunk of one request carries.
struct OpenAiReplyHeader {
  OpenAiEndpoint endpoint;
  std::string id;            // "cmpl-..." or "chatcmpl-...", random
  std::int64_t created = 0;  // Unix seconds
  std::string model;

  static OpenAiReplyHeader start(OpenAiEndpoint endpoint, std::string model);
};

// "stop" (a stop string, the end of the message, or <eos>) or "length".
const char* openai_finish_reason(infer::FinishReason reason);

nlohmann::json usage_json(std::int64_t prompt_tokens, std::int64_t completion_tokens);

// The reply's fields but "choices" and "usage".
nlohmann::json reply_json(const OpenAiReplyHeader& header);

// A choice's tokens with their log-probabilities, in the endpoint's shape:
// completions {"tokens", "token_logprobs", "top_logprobs" (each step's
// likeliest tokens and the chosen one, as OpenAI's), "text_offset" (each
// token's offset)}; chat {"content": [{"token", "logprob", "bytes",
// "top_logprobs"}], "refusal": null}. A token's text that is not valid
// UTF-8 (a byte of a character) reads "bytes:\xNN..." as in OpenAI's
// replies; chat's "bytes" are exact. Offsets count bytes of UTF-8.
nlohmann::json logprobs_json(OpenAiEndpoint endpoint,
                             const std::vector<infer::TextLogprob>& tokens);

// One finished text in a whole reply; `logprobs` null unless asked for.
nlohmann::json choice_json(OpenAiEndpoint endpoint, std::int64_t index, const std::string& text,
                           infer::FinishReason reason, nlohmann::json logprobs = nullptr);

// A stream chunk with one choice: `text` added to it (chat: the delta's
// content) and its tokens' `logprobs`, and when `finish_reason` is given,
// the choice's end.
nlohmann::json chunk_json(const OpenAiReplyHeader& header, std::int64_t index,
                          const std::string& text, const char* finish_reason = nullptr,
                          nlohmann::json logprobs = nullptr);

// Chat's first chunk for a choice: the delta that names the role.
nlohmann::json role_chunk_json(const OpenAiReplyHeader& header, std::int64_t index);

// stream_options.include_usage's last chunk: no choices, the counts.
nlohmann::json usage_chunk_json(const OpenAiReplyHeader& header, const nlohmann::json& usage);

// {"error": {"message", "type", "param", "code"}}; an empty param or code
// is null.
nlohmann::json openai_error_json(std::string_view message, int status, std::string_view param = {},
                                 std::string_view code = {});

}  // namespace loom::serve::detail
