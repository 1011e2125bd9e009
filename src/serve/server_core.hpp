// Private to the serve module: what every endpoint of the server generates
// and answers with, shared by Loom's own API (generation_server.cpp) and
// OpenAI's (openai_endpoints.cpp): the served model, the limits, the cap on
// generations at once, and the JSON and event framing of replies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "loom/infer/text_completion.hpp"
#include "loom/serve/generation_server.hpp"

namespace loom::serve::detail {

inline constexpr const char* kJson = "application/json";

// JSON text for replies: every string in it has been made valid UTF-8
// already, but a message quoting a request might not be.
std::string json_text(const nlohmann::json& value);

// One server-sent event; an empty name is the default ("message") event.
std::string sse_event(std::string_view name, const nlohmann::json& data);

// Loom's error shape, {"error": message}.
void reply_error(httplib::Response& res, int status, const std::string& message);

// OpenAI's error shape (openai_replies.hpp).
void reply_openai_error(httplib::Response& res, int status, const std::string& message,
                        std::string_view param = {}, std::string_view code = {});

// Loom's own endpoints answer errors in Loom's shape; everything else,
// OpenAI's endpoints and paths that are no endpoint, in OpenAI's.
void reply_error_for(const httplib::Request& req, httplib::Response& res, int status,
                     const std::string& message, std::string_view code = {});

// Seeds for requests that give none. Below 2^53, so that a browser's
// JavaScript numbers hold them exactly and a page can send one back.
std::uint64_t draw_seed();

// Counts the generations running and refuses one past the limit.
class GenerationSlots {
 public:
  // Held while a generation runs; frees its slot when the last copy goes.
  class Slot {
   public:
    explicit Slot(GenerationSlots& owner) : owner_(owner) {}
    ~Slot() { owner_.release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    GenerationSlots& owner_;
  };

  explicit GenerationSlots(int capacity) : capacity_(capacity) {}

  // Null when `capacity` generations are already running.
  std::shared_ptr<Slot> try_acquire() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_ >= capacity_) return nullptr;
    ++running_;
    return std::make_shared<Slot>(*this);
  }

  int running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_;
  }

 private:
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
  }

  mutable std::mutex mutex_;
  const int capacity_;
  int running_ = 0;
};

// The model behind every endpoint, and the limits they share.
struct ServerCore {
  ServerCore(ServedModel served_model, ServeLimits server_limits);

  // Completion i continues prompts[i], under the served precision.
  std::vector<infer::Completion> complete(const std::vector<std::string>& prompts,
                                          infer::CompletionOptions options,
                                          const infer::TextCallback& on_text) const;

  // The prompt's tokens scored by the model (infer::prompt_logprobs), under
  // the served precision.
  std::vector<infer::TextLogprob> prompt_logprobs(const std::string& prompt,
                                                  infer::SamplingOptions options) const;

  // The prompt's length in tokens, for the replies (complete_batch encodes
  // the prompt itself).
  std::int64_t prompt_tokens(const std::string& prompt) const;

  // A slot for one generation, or null after replying 503 (Retry-After).
  std::shared_ptr<GenerationSlots::Slot> acquire_slot(const httplib::Request& req,
                                                      httplib::Response& res);

  ServedModel served;
  const ServeLimits limits;
  GenerationSlots slots;
};

}  // namespace loom::serve::detail
