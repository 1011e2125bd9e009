#include "server_core.hpp"

#include <random>

#include "openai_replies.hpp"
#include <fmt/format.h>

namespace loom::serve::detail {

using nlohmann::json;

std::string json_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json_text({{"error", message}}), kJson);
}

void reply_openai_error(httplib::Response& res, int status, const std::string& message,
                        std::string_view param, std::string_view code) {
  res.status = status;
  res.set_content(json_text(openai_error_json(message, status, param, code)), kJson);
}

namespace {

bool is_loom_path(const std::string& path) {
  return path == "/" || path == "/v1/model" || path == "/v1/health" || path == "/v1/generate";
}

}  // namespace

void reply_error_for(const httplib::Request& req, httplib::Response& res, int status,
                     const std::string& message, std::string_view code) {
  if (is_loom_path(req.path)) {
    reply_error(res, status, message);
  } else {
    reply_openai_error(res, status, message, {}, code);
  }
}

std::string sse_event(std::string_view name, const json& data) {
  std::string event;
  if (!name.empty()) event = fmt::format("event: {}\n", name);
  event += "data: " + json_text(data) + "\n\n";
  return event;
}

std::uint64_t draw_seed() {
  std::random_device device;
  const std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) | device();
  return seed & ((std::uint64_t{1} << 53) - 1);
}

ServerCore::ServerCore(ServedModel served_model, ServeLimits server_limits)
    : served(std::move(served_model)), limits(server_limits), slots(limits.max_concurrent) {}

std::vector<infer::Completion> ServerCore::complete(const std::vector<std::string>& prompts,
                                                    infer::CompletionOptions options,
                                                    const infer::TextCallback& on_text) const {
  options.sampling.autocast_dtype = served.autocast_dtype;
  return infer::complete_batch(*served.model, *served.tokenizer, prompts, options, on_text);
}

std::vector<infer::TextLogprob> ServerCore::prompt_logprobs(const std::string& prompt,
                                                            infer::SamplingOptions options) const {
  options.autocast_dtype = served.autocast_dtype;
  return infer::prompt_logprobs(*served.model, *served.tokenizer, prompt, options);
}

std::int64_t ServerCore::prompt_tokens(const std::string& prompt) const {
  return static_cast<std::int64_t>(infer::prompt_ids(*served.tokenizer, prompt).size());
}

std::shared_ptr<GenerationSlots::Slot> ServerCore::acquire_slot(const httplib::Request& req,
                                                                httplib::Response& res) {
  std::shared_ptr<GenerationSlots::Slot> slot = slots.try_acquire();
  if (!slot) {
    res.set_header("Retry-After", "1");
    reply_error_for(req, res, 503,
                    fmt::format("busy: the server runs at most {} generation{} at once; try "
                                "again shortly",
                                limits.max_concurrent, limits.max_concurrent == 1 ? "" : "s"));
  }
  return slot;
}

}  // namespace loom::serve::detail
