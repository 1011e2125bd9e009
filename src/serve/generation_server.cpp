// The HTTP side of `loom serve`: routes, the API key, JSON replies,
// server-sent events, and the cap on generations running at once.
// Generation itself is infer::complete_batch() on the shared model.
#include "loom/serve/generation_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string_view>
#include <utility>

#include "openai_replies.hpp"
#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include "loom/config/enum_names.hpp"
#include "loom/export/model_export.hpp"
#include "loom/serve/openai_request.hpp"
#include "loom/text/utf8.hpp"

namespace loom::serve {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

// JSON text for replies: every string in it has been made valid UTF-8
// already, but a message quoting a request might not be.
std::string json_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json_text({{"error", message}}), kJson);
}

void reply_openai_error(httplib::Response& res, int status, const std::string& message,
                        std::string_view param = {}, std::string_view code = {}) {
  res.status = status;
  res.set_content(json_text(detail::openai_error_json(message, status, param, code)), kJson);
}

// Loom's own endpoints answer errors in Loom's shape; everything else,
// OpenAI's endpoints and paths that are no endpoint, in OpenAI's.
bool is_loom_path(const std::string& path) {
  return path == "/" || path == "/v1/model" || path == "/v1/health" || path == "/v1/generate";
}

void reply_error_for(const httplib::Request& req, httplib::Response& res, int status,
                     const std::string& message, std::string_view code = {}) {
  if (is_loom_path(req.path)) {
    reply_error(res, status, message);
  } else {
    reply_openai_error(res, status, message, {}, code);
  }
}

// Compares in time that does not depend on where the strings differ, so a
// client cannot find the key a byte at a time.
bool same_secret(std::string_view given, std::string_view expected) {
  if (expected.empty()) return given.empty();
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return difference == 0;
}

std::string sse_data(const json& data) {
  return "data: " + json_text(data) + "\n\n";
}

// Seeds for requests that give none. Below 2^53, so that a browser's
// JavaScript numbers hold them exactly and a page can send one back.
std::uint64_t draw_seed() {
  std::random_device device;
  const std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) | device();
  return seed & ((std::uint64_t{1} << 53) - 1);
}

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

struct Outcome {
  infer::Completion completion;
  std::int64_t prompt_tokens = 0;
  double seconds = 0.0;
};

// A reply's fields, "text" aside.
json outcome_fields(const Outcome& outcome, const GenerateRequest& request) {
  const double seconds = outcome.seconds;
  return {{"finish_reason", infer::finish_reason_name(outcome.completion.finish_reason)},
          {"tokens", outcome.completion.tokens},
          {"prompt_tokens", outcome.prompt_tokens},
          {"seed", request.options.sampling.seed},
          {"seconds", seconds},
          {"tokens_per_second",
           seconds > 0.0 ? static_cast<double>(outcome.completion.tokens) / seconds : 0.0}};
}

// One server-sent event; an empty name is the default ("message") event.
std::string sse_event(std::string_view name, const json& data) {
  std::string event;
  if (!name.empty()) event = fmt::format("event: {}\n", name);
  event += "data: " + json_text(data) + "\n\n";
  return event;
}

}  // namespace

struct GenerationServer::Impl {
  Impl(ServedModel served_model, ServeLimits server_limits, std::string key)
      : served(std::move(served_model)),
        limits(server_limits),
        api_key(std::move(key)),
        slots(limits.max_concurrent) {}

  // Completion i continues prompts[i], under the served precision.
  std::vector<infer::Completion> complete(const std::vector<std::string>& prompts,
                                          infer::CompletionOptions options,
                                          const infer::TextCallback& on_text) {
    options.sampling.autocast_dtype = served.autocast_dtype;
    return infer::complete_batch(*served.model, *served.tokenizer, prompts, options, on_text);
  }

  // The prompt's length in tokens, for the replies (complete_batch encodes
  // the prompt itself).
  std::int64_t prompt_tokens(const GenerateRequest& request) const {
    return static_cast<std::int64_t>(infer::prompt_ids(*served.tokenizer, request.prompt).size());
  }

  Outcome generate(const GenerateRequest& request, std::int64_t prompt_tokens,
                   const infer::TextCallback& on_text) {
    Outcome outcome;
    outcome.prompt_tokens = prompt_tokens;
    const auto start = std::chrono::steady_clock::now();
    outcome.completion = complete({request.prompt}, request.options, on_text).front();
    outcome.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return outcome;
  }

  // Runs the generation inside the response: each piece of text is written
  // as it comes, so a client that reads slowly slows only this thread, and
  // a failed write (client gone, write timeout, server stopping) ends it.
  void stream(const GenerateRequest& request, httplib::DataSink& sink) {
    const auto send = [&sink](std::string_view name, const json& data) {
      const std::string event = sse_event(name, data);
      return sink.write(event.data(), event.size());
    };
    const std::int64_t tokens_in_prompt = prompt_tokens(request);
    if (!send("start",
              {{"prompt_tokens", tokens_in_prompt}, {"seed", request.options.sampling.seed}}))
      return;
    text::Utf8StreamDecoder utf8;
    try {
      const Outcome outcome =
          generate(request, tokens_in_prompt, [&](std::size_t, const std::string& piece) {
            const std::string text = utf8.add(piece);
            return text.empty() || send("", {{"text", text}});
          });
      if (outcome.completion.finish_reason == infer::FinishReason::cancelled) return;
      const std::string rest = utf8.flush();
      if (!rest.empty() && !send("", {{"text", rest}})) return;
      send("done", outcome_fields(outcome, request));
    } catch (const std::exception& e) {
      send("error", {{"error", e.what()}});
    }
  }

  // A slot for one generation, or null after replying 503 (Retry-After).
  std::shared_ptr<GenerationSlots::Slot> acquire_slot(const httplib::Request& req,
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

  void handle_generate(const httplib::Request& req, httplib::Response& res) {
    GenerateRequest request;
    try {
      request = parse_generate_request(req.body, limits, draw_seed());
    } catch (const BadRequest& e) {
      reply_error(res, 400, e.what());
      return;
    }
    std::shared_ptr<GenerationSlots::Slot> slot = acquire_slot(req, res);
    if (!slot) return;
    if (!request.stream) {
      try {
        const Outcome outcome = generate(request, prompt_tokens(request), {});
        json reply = outcome_fields(outcome, request);
        reply["text"] = text::replace_invalid_utf8(outcome.completion.text);
        res.set_content(json_text(reply), kJson);
      } catch (const std::exception& e) {
        reply_error(res, 500, e.what());
      }
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream",
                                     // The slot travels with the provider: it is freed when the
                                     // response is over, or dropped unsent.
                                     [this, request, slot](std::size_t, httplib::DataSink& sink) {
                                       stream(request, sink);
                                       sink.done();
                                       return true;
                                     });
  }

  // One OpenAI request's texts: each prompt n times, row r seeded with
  // seed + r (complete_batch), so every choice differs and all repeat with
  // the same seed.
  static std::vector<std::string> choice_prompts(const OpenAiRequest& request) {
    std::vector<std::string> rows;
    for (const std::string& prompt : request.prompts) {
      rows.insert(rows.end(), static_cast<std::size_t>(request.n), prompt);
    }
    return rows;
  }

  // Prompt tokens as OpenAI counts them: each prompt once, whatever n.
  std::int64_t openai_prompt_tokens(const OpenAiRequest& request) const {
    std::int64_t tokens = 0;
    for (const std::string& prompt : request.prompts) {
      tokens += static_cast<std::int64_t>(infer::prompt_ids(*served.tokenizer, prompt).size());
    }
    return tokens;
  }

  void handle_openai(const httplib::Request& req, httplib::Response& res,
                     detail::OpenAiEndpoint endpoint) {
    OpenAiRequest request;
    try {
      request = endpoint == detail::OpenAiEndpoint::completions
                    ? parse_completions_request(req.body, limits, draw_seed())
                    : parse_chat_request(req.body, limits, draw_seed(), served.chat);
    } catch (const BadRequest& e) {
      reply_openai_error(res, 400, e.what(), e.param());
      return;
    }
    if (request.model != served.id) {
      reply_openai_error(res, 404,
                         fmt::format("the model '{}' does not exist; this server serves '{}'",
                                     request.model, served.id),
                         "model", "model_not_found");
      return;
    }
    std::shared_ptr<GenerationSlots::Slot> slot = acquire_slot(req, res);
    if (!slot) return;
    const detail::OpenAiReplyHeader header = detail::OpenAiReplyHeader::start(endpoint, served.id);
    if (!request.stream) {
      const std::vector<std::string> rows = choice_prompts(request);
      const std::vector<infer::Completion> completions = complete(rows, request.options, {});
      json reply = detail::reply_json(header);
      reply["choices"] = json::array();
      std::int64_t completion_tokens = 0;
      for (std::size_t row = 0; row < rows.size(); ++row) {
        const infer::Completion& completion = completions[row];
        const std::string text = request.echo ? rows[row] + completion.text : completion.text;
        reply["choices"].push_back(detail::choice_json(endpoint, static_cast<std::int64_t>(row),
                                                       text::replace_invalid_utf8(text),
                                                       completion.finish_reason));
        completion_tokens += completion.tokens;
      }
      reply["usage"] = detail::usage_json(openai_prompt_tokens(request), completion_tokens);
      res.set_content(json_text(reply), kJson);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        // The slot travels with the provider, as in handle_generate.
        [this, header, request, slot](std::size_t, httplib::DataSink& sink) {
          stream_openai(header, request, sink);
          sink.done();
          return true;
        });
  }

  // OpenAI's stream: per choice its opening (chat: the role; echo: the
  // prompt), then its text as it comes, then each choice's finish_reason,
  // the usage chunk when asked for, and [DONE]. A failed write (client
  // gone) ends the generation.
  void stream_openai(const detail::OpenAiReplyHeader& header, const OpenAiRequest& request,
                     httplib::DataSink& sink) {
    const auto send_text = [&sink](const std::string& event) {
      return sink.write(event.data(), event.size());
    };
    const auto send = [&](const json& chunk) { return send_text(sse_data(chunk)); };
    const std::vector<std::string> rows = choice_prompts(request);
    const bool chat = header.endpoint == detail::OpenAiEndpoint::chat_completions;
    for (std::size_t row = 0; row < rows.size(); ++row) {
      const auto index = static_cast<std::int64_t>(row);
      if (chat && !send(detail::role_chunk_json(header, index))) return;
      if (request.echo &&
          !send(detail::chunk_json(header, index, text::replace_invalid_utf8(rows[row]))))
        return;
    }
    std::vector<text::Utf8StreamDecoder> utf8(rows.size());
    try {
      const std::vector<infer::Completion> completions =
          complete(rows, request.options, [&](std::size_t row, const std::string& piece) {
            const std::string text = utf8[row].add(piece);
            return text.empty() ||
                   send(detail::chunk_json(header, static_cast<std::int64_t>(row), text));
          });
      std::int64_t completion_tokens = 0;
      for (std::size_t row = 0; row < rows.size(); ++row) {
        const infer::Completion& completion = completions[row];
        if (completion.finish_reason == infer::FinishReason::cancelled) return;
        const auto index = static_cast<std::int64_t>(row);
        const std::string rest = utf8[row].flush();
        if (!rest.empty() && !send(detail::chunk_json(header, index, rest))) return;
        if (!send(detail::chunk_json(header, index, "",
                                     detail::openai_finish_reason(completion.finish_reason))))
          return;
        completion_tokens += completion.tokens;
      }
      if (request.include_usage &&
          !send(detail::usage_chunk_json(
              header, detail::usage_json(openai_prompt_tokens(request), completion_tokens))))
        return;
    } catch (const std::exception& e) {
      send(detail::openai_error_json(e.what(), 500));
    }
    send_text("data: [DONE]\n\n");
  }

  json models_reply() const { return {{"object", "list"}, {"data", json::array({model_entry()})}}; }

  json model_entry() const {
    return {{"id", served.id}, {"object", "model"}, {"created", 0}, {"owned_by", "loom"}};
  }

  // With an API key, every request but the page's must carry it; false
  // after replying 401.
  bool authorized(const httplib::Request& req, httplib::Response& res) const {
    if (api_key.empty() || req.path == "/") return true;
    constexpr std::string_view kScheme = "Bearer ";
    const std::string header = req.get_header_value("Authorization");
    const bool has_bearer = header.compare(0, kScheme.size(), kScheme) == 0;
    if (has_bearer && same_secret(std::string_view(header).substr(kScheme.size()), api_key)) {
      return true;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    reply_error_for(req, res, 401,
                    has_bearer ? "the API key is not this server's"
                               : "this server needs an API key: send the header "
                                 "\"Authorization: Bearer KEY\"",
                    "invalid_api_key");
    return false;
  }

  json model_reply() const {
    const model::LanguageModel& model = *served.model;
    json reply = served.about;
    reply["model"] = exporting::model_section_json(model.config());
    reply["vocab_size"] = model.vocab_size();
    reply["parameters"] = model.parameter_count();
    reply["tokenizer"] = served.tokenizer->kind();
    reply["limits"] = {{"max_tokens", limits.max_tokens},
                       {"max_concurrent", limits.max_concurrent},
                       {"max_body_bytes", limits.max_body_bytes},
                       {"max_stop_strings", limits.max_stop_strings}};
    reply["defaults"] = {{"max_tokens", std::min(kDefaultMaxTokens, limits.max_tokens)},
                         {"temperature", infer::SamplingOptions{}.temperature},
                         {"top_k", infer::SamplingOptions{}.top_k},
                         {"top_p", infer::SamplingOptions{}.top_p},
                         {"repetition_penalty", infer::SamplingOptions{}.repetition_penalty},
                         {"stop_at_eos", true}};
    reply["fields"] = generate_request_fields();
    reply["chat"] = {{"template", config::enum_name(served.chat.kind())},
                     {"user_name", served.chat.user_name()},
                     {"assistant_name", served.chat.assistant_name()}};
    return reply;
  }

  void set_up_routes() {
    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(playground_html(), "text/html; charset=utf-8");
    });
    http.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(json_text(model_reply()), kJson);
    });
    http.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(json_text({{"status", "ok"},
                                 {"generations_running", slots.running()},
                                 {"max_concurrent", limits.max_concurrent}}),
                      kJson);
    });
    http.Post("/v1/generate", [this](const httplib::Request& req, httplib::Response& res) {
      handle_generate(req, res);
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(json_text(models_reply()), kJson);
    });
    http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.matches[1] != served.id) {
        reply_openai_error(res, 404,
                           fmt::format("the model '{}' does not exist; this server serves '{}'",
                                       req.matches[1].str(), served.id),
                           "model", "model_not_found");
        return;
      }
      res.set_content(json_text(model_entry()), kJson);
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      handle_openai(req, res, detail::OpenAiEndpoint::completions);
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      handle_openai(req, res, detail::OpenAiEndpoint::chat_completions);
    });
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return authorized(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                  : httplib::Server::HandlerResponse::Handled;
    });
    // Statuses httplib sets itself (no route, body too large, a malformed
    // request) get a JSON message too; replies that carry one keep it.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (res.body.empty())
            reply_error_for(req, res, res.status, status_message(req, res.status));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
          std::string message = "internal error";
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            message = e.what();
          } catch (...) {
          }
          reply_error_for(req, res, 500, message);
        });
  }

  std::string status_message(const httplib::Request& req, int status) const {
    switch (status) {
      case 404:
        return fmt::format(
            "no such endpoint: {} {}; there are GET /, GET /v1/model, GET /v1/health, POST "
            "/v1/generate, GET /v1/models, POST /v1/completions and POST /v1/chat/completions",
            req.method, req.path);
      case 413:
        return fmt::format("the request body is over the server's limit of {} bytes",
                           limits.max_body_bytes);
      default:
        return fmt::format("HTTP status {}", status);
    }
  }

  ServedModel served;
  const ServeLimits limits;
  const std::string api_key;  // empty: none needed
  GenerationSlots slots;
  httplib::Server http;
  std::atomic<bool> stopping{false};
};

GenerationServer::GenerationServer(ServedModel served, ServeLimits limits, std::string api_key)
    : impl_(std::make_unique<Impl>(std::move(served), limits, std::move(api_key))) {
  if (limits.max_concurrent < 1) {
    throw UsageError(
        fmt::format("max_concurrent must be at least 1, got {}", limits.max_concurrent));
  }
  // Only read from now on, by every generation at once.
  impl_->served.model->eval();
  httplib::Server& http = impl_->http;
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // server bind the same port and take half the connections: only
  // SO_REUSEADDR, so a restarted server need not wait out TIME_WAIT.
  http.set_socket_options([](socket_t socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_payload_max_length(limits.max_body_bytes);
  http.set_write_timeout(limits.write_timeout_seconds, 0);
  // A thread per connection: the generations, plus room for clients that
  // are only loading the page, asking for the model, or being refused.
  const std::size_t threads = static_cast<std::size_t>(limits.max_concurrent) + 8;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl_->set_up_routes();
}

GenerationServer::~GenerationServer() = default;

int GenerationServer::bind(const std::string& host, int port) {
  const int bound = port == 0 ? impl_->http.bind_to_any_port(host)
                              : (impl_->http.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    throw Error(
        fmt::format("cannot listen on {}:{} (in use, not an address of this machine, or "
                    "not allowed)",
                    host, port));
  }
  return bound;
}

void GenerationServer::serve() {
  if (!impl_->stopping) impl_->http.listen_after_bind();
}

void GenerationServer::stop() {
  // httplib's stop() does nothing before its loop runs: the flag covers a
  // stop() that comes before serve().
  impl_->stopping = true;
  impl_->http.stop();
}

}  // namespace loom::serve
