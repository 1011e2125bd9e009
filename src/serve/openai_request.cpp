// Parsing the OpenAI-compatible request bodies: the fields both endpoints
// share, then each endpoint's own (prompt, echo; messages).
#include "loom/serve/openai_request.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>

#include "request_fields.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace loom::serve {
namespace {

using nlohmann::json;
using namespace detail;

// What each endpoint accepts, for the "unknown field" suggestions: the
// fields both take (read_common_field), then its own.
std::vector<std::string> fields_with(std::initializer_list<const char*> own) {
  std::vector<std::string> fields = {"model",
                                     "max_tokens",
                                     "temperature",
                                     "top_p",
                                     "n",
                                     "stop",
                                     "seed",
                                     "stream",
                                     "stream_options",
                                     "logprobs",
                                     "user",
                                     "presence_penalty",
                                     "frequency_penalty",
                                     "logit_bias",
                                     "top_k",
                                     "repetition_penalty"};
  fields.insert(fields.end(), own.begin(), own.end());
  return fields;
}

const std::vector<std::string>& completions_fields() {
  static const std::vector<std::string> fields =
      fields_with({"prompt", "echo", "best_of", "suffix"});
  return fields;
}

const std::vector<std::string>& chat_fields() {
  static const std::vector<std::string> fields =
      fields_with({"messages", "max_completion_tokens", "top_logprobs", "response_format", "tools",
                   "tool_choice", "parallel_tool_calls", "functions", "function_call"});
  return fields;
}

[[noreturn]] void unsupported(const std::string& field, const json& value, const char* why) {
  throw BadRequest(
      fmt::format("'{}' is not supported by Loom's server ({}); got {}", field, why, shown(value)),
      field);
}

// A field Loom cannot honour, accepted only at its neutral value.
void neutral_only(const std::string& field, const json& value) {
  const bool neutral = value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
                       (value.is_number() && value.get<double>() == 0.0) ||
                       (value.is_object() && value.empty()) ||
                       (value.is_array() && value.empty()) ||
                       (value.is_string() && value.get<std::string>().empty());
  if (neutral) return;
  if (field == "presence_penalty" || field == "frequency_penalty") {
    unsupported(field, value, "use repetition_penalty, Loom's sampler's penalty");
  }
  if (field == "logit_bias") unsupported(field, value, "the sampler takes no per-token bias");
  if (field == "suffix") unsupported(field, value, "the models only continue text, never fill in");
  unsupported(field, value, "Loom's models call no tools or functions");
}

// Fields both endpoints read the same way. False when `field` is not one.
bool read_common_field(const std::string& field, const json& value, OpenAiRequest& request,
                       const ServeLimits& limits) {
  infer::SamplingOptions& sampling = request.options.sampling;
  if (field == "model") {
    request.model = string_field(field, value);
  } else if (field == "max_tokens" || field == "max_completion_tokens") {
    if (!value.is_null()) sampling.max_new_tokens = integer_field(field, value);
  } else if (field == "temperature") {
    if (!value.is_null()) sampling.temperature = number_field(field, value);
  } else if (field == "top_p") {
    if (!value.is_null()) sampling.top_p = number_field(field, value);
  } else if (field == "top_k") {
    sampling.top_k = integer_field(field, value);
  } else if (field == "repetition_penalty") {
    sampling.repetition_penalty = number_field(field, value);
  } else if (field == "n") {
    if (!value.is_null()) request.n = integer_field(field, value);
  } else if (field == "stop") {
    if (!value.is_null()) request.options.stop = stop_field(value, limits.max_stop_strings);
  } else if (field == "seed") {
    if (!value.is_null()) sampling.seed = seed_field(value);
  } else if (field == "stream") {
    if (!value.is_null()) request.stream = bool_field(field, value);
  } else if (field == "stream_options") {
    if (value.is_null()) return true;
    if (!value.is_object()) wrong_type(field, "an object", value);
    for (const auto& [option, setting] : value.items()) {
      if (option != "include_usage") {
        throw BadRequest(fmt::format("unknown field 'stream_options.{}'; the only one is "
                                     "include_usage",
                                     option),
                         "stream_options");
      }
      request.include_usage = bool_field("stream_options.include_usage", setting);
    }
  } else if (field == "user") {
    // An end-user id for the caller's own records: nothing to generate by.
    string_field(field, value);
  } else if (field == "presence_penalty" || field == "frequency_penalty" || field == "logit_bias" ||
             field == "suffix" || field == "tools" || field == "tool_choice" ||
             field == "functions" || field == "function_call") {
    neutral_only(field, value);
  } else {
    return false;
  }
  return true;
}

// How many likeliest tokens to report per step: 0..kMaxTopLogprobs.
std::int64_t top_logprobs_field(const std::string& field, const json& value) {
  const std::int64_t top = integer_field(field, value);
  if (top < 0 || top > kMaxTopLogprobs) {
    throw BadRequest(
        fmt::format("'{}' must be between 0 and {}, got {}", field, kMaxTopLogprobs, top), field);
  }
  return top;
}

OpenAiRequest parse_request(std::string_view body, const ServeLimits& limits,
                            std::uint64_t drawn_seed, std::int64_t default_max_tokens,
                            const std::vector<std::string>& fields,
                            const std::function<void(const std::string&, const json&)>& read_own) {
  const json parsed = parse_body_object(body);
  OpenAiRequest request;
  infer::SamplingOptions& sampling = request.options.sampling;
  sampling.max_new_tokens = std::min(default_max_tokens, limits.max_tokens);
  sampling.seed = drawn_seed;
  sampling.stop_at_eos = true;
  bool has_model = false;
  for (const auto& [field, value] : parsed.items()) {
    has_model = has_model || field == "model";
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
      unknown_field(field, fields);
    }
    if (!read_common_field(field, value, request, limits)) read_own(field, value);
  }
  if (!has_model) throw BadRequest("'model' is required: see GET /v1/models", "model");
  if (request.n < 1) {
    throw BadRequest(fmt::format("'n' must be at least 1, got {}", request.n), "n");
  }
  if (request.include_usage && !request.stream) {
    throw BadRequest("'stream_options' is only allowed with \"stream\": true", "stream_options");
  }
  check_completion_request(request.options, limits);
  return request;
}

void check_choices(const OpenAiRequest& request, const ServeLimits& limits) {
  const auto choices = static_cast<std::int64_t>(request.prompts.size()) * request.n;
  if (choices > limits.max_choices) {
    throw BadRequest(
        fmt::format("the request asks for {} texts ({} prompt{} x n = {}); the server "
                    "makes at most {} per request",
                    choices, request.prompts.size(), request.prompts.size() == 1 ? "" : "s",
                    request.n, limits.max_choices),
        "n");
  }
}

std::vector<std::string> prompt_field(const json& value) {
  constexpr const char* expected = "a string or a list of strings (token ids are not taken)";
  if (value.is_string()) return {value.get<std::string>()};
  if (!value.is_array() || value.empty()) wrong_type("prompt", expected, value);
  std::vector<std::string> prompts;
  for (const json& item : value) {
    if (!item.is_string()) wrong_type("prompt", expected, value);
    prompts.push_back(item.get<std::string>());
  }
  return prompts;
}

// OpenAI's content is a string or a list of parts; Loom takes text parts.
std::string content_field(const std::string& param, const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  if (!value.is_array()) wrong_type(param, "a string or a list of text parts", value);
  std::string text;
  for (const json& part : value) {
    if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") ||
        !part["text"].is_string()) {
      throw BadRequest(fmt::format("{} may only hold parts {{\"type\": \"text\", \"text\": "
                                   "...}} (the models read text), got {}",
                                   param, shown(part)),
                       param);
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

std::vector<ChatMessage> messages_field(const json& value) {
  if (!value.is_array() || value.empty()) {
    wrong_type("messages", "a non-empty list of {\"role\", \"content\"} objects", value);
  }
  std::vector<ChatMessage> messages;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (!item.is_object()) wrong_type(param, "an object {\"role\", \"content\"}", item);
    ChatMessage message;
    bool has_role = false;
    for (const auto& [key, field] : item.items()) {
      if (key == "role") {
        message.role = string_field(param + ".role", field);
        has_role = true;
      } else if (key == "content") {
        message.content = content_field(param + ".content", field);
      } else if (key == "name") {
        message.name = string_field(param + ".name", field);
      } else {
        throw BadRequest(fmt::format("unknown field '{}.{}'; a message has role, content and "
                                     "name (Loom's models call no tools)",
                                     param, key),
                         param);
      }
    }
    if (!has_role) throw BadRequest(fmt::format("{} has no 'role'", param), param);
    messages.push_back(std::move(message));
  }
  return messages;
}

}  // namespace

OpenAiRequest parse_completions_request(std::string_view body, const ServeLimits& limits,
                                        std::uint64_t drawn_seed) {
  bool has_prompt = false;
  std::vector<std::string> prompts;
  bool echo = false;
  bool request_sampling_logprobs = false;
  std::int64_t request_top_logprobs = 0;
  OpenAiRequest request = parse_request(
      body, limits, drawn_seed, kOpenAiCompletionDefaultMaxTokens, completions_fields(),
      [&](const std::string& field, const json& value) {
        if (field == "prompt") {
          prompts = prompt_field(value);
          has_prompt = true;
        } else if (field == "echo") {
          if (!value.is_null()) echo = bool_field(field, value);
        } else if (field == "logprobs") {
          // Completions' logprobs is the number of likeliest tokens to list.
          if (value.is_null()) return;
          request_sampling_logprobs = true;
          request_top_logprobs = top_logprobs_field(field, value);
        } else if (field == "best_of") {
          if (!value.is_null() && integer_field(field, value) != 1) {
            unsupported(field, value, "each text is drawn once; ask for n texts instead");
          }
        }
      });
  if (!has_prompt) throw BadRequest("'prompt' is required", "prompt");
  request.prompts = std::move(prompts);
  request.echo = echo;
  request.options.sampling.logprobs = request_sampling_logprobs;
  request.options.sampling.top_logprobs = request_top_logprobs;
  check_choices(request, limits);
  return request;
}

OpenAiRequest parse_chat_request(std::string_view body, const ServeLimits& limits,
                                 std::uint64_t drawn_seed, const ChatTemplate& chat) {
  std::vector<ChatMessage> messages;
  bool has_messages = false;
  bool logprobs = false;
  std::optional<std::int64_t> top_logprobs;
  OpenAiRequest request =
      parse_request(body, limits, drawn_seed, kDefaultMaxTokens, chat_fields(),
                    [&](const std::string& field, const json& value) {
                      if (field == "messages") {
                        messages = messages_field(value);
                        has_messages = true;
                      } else if (field == "response_format") {
                        if (!value.is_null() && value != json{{"type", "text"}}) {
                          unsupported(field, value, "the models write free text only");
                        }
                      } else if (field == "parallel_tool_calls") {
                        if (!value.is_null()) bool_field(field, value);
                      } else if (field == "logprobs") {
                        if (!value.is_null()) logprobs = bool_field(field, value);
                      } else if (field == "top_logprobs") {
                        if (!value.is_null()) top_logprobs = top_logprobs_field(field, value);
                      }
                    });
  if (!has_messages) throw BadRequest("'messages' is required", "messages");
  if (top_logprobs.value_or(0) > 0 && !logprobs) {
    throw BadRequest("'top_logprobs' is only allowed with \"logprobs\": true", "top_logprobs");
  }
  request.options.sampling.logprobs = logprobs;
  request.options.sampling.top_logprobs = top_logprobs.value_or(0);
  request.prompts = {chat.prompt(messages)};
  // The answer is one message: it ends where the template ends a message.
  request.options.stop.push_back(chat.end_of_message());
  check_choices(request, limits);
  return request;
}

}  // namespace loom::serve
