// The JSON shapes of OpenAI's API that Loom's server sends: completions and
// chat completions whole or as stream chunks, usage counts, the model
// list, and errors. Only shapes: what goes in them is the server's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "loom/infer/sampling.hpp"

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

// One finished text in a whole reply.
nlohmann::json choice_json(OpenAiEndpoint endpoint, std::int64_t index, const std::string& text,
                           infer::FinishReason reason);

// A stream chunk with one choice: `text` added to it (chat: the delta's
// content), and when `finish_reason` is given, the choice's end.
nlohmann::json chunk_json(const OpenAiReplyHeader& header, std::int64_t index,
                          const std::string& text, const char* finish_reason = nullptr);

// Chat's first chunk for a choice: the delta that names the role.
nlohmann::json role_chunk_json(const OpenAiReplyHeader& header, std::int64_t index);

// stream_options.include_usage's last chunk: no choices, the counts.
nlohmann::json usage_chunk_json(const OpenAiReplyHeader& header, const nlohmann::json& usage);

// {"error": {"message", "type", "param", "code"}}; an empty param or code
// is null.
nlohmann::json openai_error_json(std::string_view message, int status, std::string_view param = {},
                                 std::string_view code = {});

}  // namespace loom::serve::detail
