#include "openai_replies.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "loom/text/utf8.hpp"

namespace loom::serve::detail {

using nlohmann::json;

namespace {

const char* object_name(OpenAiEndpoint endpoint, bool chunk) {
  if (endpoint == OpenAiEndpoint::completions) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json header_fields(const OpenAiReplyHeader& header, bool chunk) {
  return {{"id", header.id},
          {"object", object_name(header.endpoint, chunk)},
          {"created", header.created},
          {"model", header.model}};
}

json nullable(std::string_view text) {
  return text.empty() ? json(nullptr) : json(text);
}

// A token's text as OpenAI spells it: itself when it is valid UTF-8, else
// "bytes:" and each byte as \xNN (a byte token that is part of a character),
// so that two such tokens never read the same.
std::string token_string(const std::string& text) {
  if (text::replace_invalid_utf8(text) == text) return text;
  std::string spelled = "bytes:";
  for (const char byte : text)
    spelled += fmt::format("\\x{:02x}", static_cast<unsigned char>(byte));
  return spelled;
}

// Adds a token to a step's {token: logprob} list. Two tokens can still read
// the same (specials that decode to nothing): the likelier one is kept.
void add_alternative(json& top, const std::string& text, double logprob) {
  const std::string key = token_string(text);
  if (!top.contains(key) || top[key].get<double>() < logprob) top[key] = logprob;
}

}  // namespace

OpenAiReplyHeader OpenAiReplyHeader::start(OpenAiEndpoint endpoint, std::string model) {
  std::random_device device;
  const std::string prefix = endpoint == OpenAiEndpoint::completions ? "cmpl-" : "chatcmpl-";
  const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  return {endpoint, fmt::format("{}{:08x}{:08x}{:08x}", prefix, device(), device(), device()),
          static_cast<std::int64_t>(created), std::move(model)};
}

const char* openai_finish_reason(infer::FinishReason reason) {
  return reason == infer::FinishReason::length ? "length" : "stop";
}

json usage_json(std::int64_t prompt_tokens, std::int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

json reply_json(const OpenAiReplyHeader& header) {
  return header_fields(header, false);
}

json logprobs_json(OpenAiEndpoint endpoint, const std::vector<infer::TextLogprob>& tokens) {
  if (endpoint == OpenAiEndpoint::completions) {
    json texts = json::array(), logprobs = json::array(), tops = json::array(),
         offsets = json::array();
    for (const infer::TextLogprob& token : tokens) {
      texts.push_back(token_string(token.text));
      offsets.push_back(token.offset);
      if (!token.logprob) {
        logprobs.push_back(nullptr);
        tops.push_back(nullptr);
        continue;
      }
      logprobs.push_back(*token.logprob);
      json top = json::object();
      for (const auto& [alternative, logprob] : token.top)
        add_alternative(top, alternative, logprob);
      add_alternative(top, token.text, *token.logprob);
      tops.push_back(std::move(top));
    }
    return {{"tokens", std::move(texts)},
            {"token_logprobs", std::move(logprobs)},
            {"top_logprobs", std::move(tops)},
            {"text_offset", std::move(offsets)}};
  }
  const auto entry = [](const std::string& text, double logprob) {
    return json{{"token", token_string(text)},
                {"logprob", logprob},
                {"bytes", std::vector<unsigned char>(text.begin(), text.end())}};
  };
  json content = json::array();
  for (const infer::TextLogprob& token : tokens) {
    // Chat scores generated tokens only: each has its logprob.
    json item = entry(token.text, token.logprob.value_or(0.0));
    item["top_logprobs"] = json::array();
    for (const auto& [alternative, logprob] : token.top)
      item["top_logprobs"].push_back(entry(alternative, logprob));
    content.push_back(std::move(item));
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

json choice_json(OpenAiEndpoint endpoint, std::int64_t index, const std::string& text,
                 infer::FinishReason reason, json logprobs) {
  json choice = {{"index", index},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", openai_finish_reason(reason)}};
  if (endpoint == OpenAiEndpoint::completions) {
    choice["text"] = text;
  } else {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  }
  return choice;
}

json chunk_json(const OpenAiReplyHeader& header, std::int64_t index, const std::string& text,
                const char* finish_reason, json logprobs) {
  json choice = {{"index", index},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", finish_reason ? json(finish_reason) : json(nullptr)}};
  if (header.endpoint == OpenAiEndpoint::completions) {
    choice["text"] = text;
  } else {
    choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  }
  json chunk = header_fields(header, true);
  chunk["choices"] = json::array({choice});
  return chunk;
}

json role_chunk_json(const OpenAiReplyHeader& header, std::int64_t index) {
  json chunk = header_fields(header, true);
  chunk["choices"] = json::array({{{"index", index},
                                   {"delta", {{"role", "assistant"}, {"content", ""}}},
                                   {"logprobs", nullptr},
                                   {"finish_reason", nullptr}}});
  return chunk;
}

json usage_chunk_json(const OpenAiReplyHeader& header, const json& usage) {
  json chunk = header_fields(header, true);
  chunk["choices"] = json::array();
  chunk["usage"] = usage;
  return chunk;
}

json openai_error_json(std::string_view message, int status, std::string_view param,
                       std::string_view code) {
  const char* type = status >= 500 ? "server_error" : "invalid_request_error";
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", nullable(param)},
            {"code", nullable(code)}}}};
}

}  // namespace loom::serve::detail
