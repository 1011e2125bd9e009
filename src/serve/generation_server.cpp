// The HTTP side of `loom serve`: the server's lifecycle, the API key,
// errors httplib raises, and Loom's own API (the page, /v1/model,
// /v1/health, /v1/generate). OpenAI's API is openai_endpoints.cpp's; what
// both generate with, server_core.cpp's.
#include "loom/serve/generation_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>
#include <utility>

#include "openai_endpoints.hpp"
#include "server_core.hpp"
#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include "loom/config/enum_names.hpp"
#include "loom/export/model_export.hpp"
#include "loom/text/utf8.hpp"

namespace loom::serve {
namespace {

using nlohmann::json;
using namespace detail;

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

}  // namespace

struct GenerationServer::Impl {
  Impl(ServedModel served_model, ServeLimits server_limits, std::string key)
      : core(std::move(served_model), server_limits), api_key(std::move(key)) {}

  std::int64_t prompt_tokens(const GenerateRequest& request) const {
    return core.prompt_tokens(request.prompt);
  }

  Outcome generate(const GenerateRequest& request, std::int64_t prompt_tokens,
                   const infer::TextCallback& on_text) {
    Outcome outcome;
    outcome.prompt_tokens = prompt_tokens;
    const auto start = std::chrono::steady_clock::now();
    outcome.completion = core.complete({request.prompt}, request.options, on_text).front();
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
          generate(request, tokens_in_prompt, [&](std::size_t, const infer::TextPiece& piece) {
            const std::string text = utf8.add(piece.text);
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

  void handle_generate(const httplib::Request& req, httplib::Response& res) {
    GenerateRequest request;
    try {
      request = parse_generate_request(req.body, core.limits, draw_seed());
    } catch (const BadRequest& e) {
      reply_error(res, 400, e.what());
      return;
    }
    std::shared_ptr<GenerationSlots::Slot> slot = core.acquire_slot(req, res);
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
    const model::LanguageModel& model = *core.served.model;
    json reply = core.served.about;
    reply["model"] = exporting::model_section_json(model.config());
    reply["vocab_size"] = model.vocab_size();
    reply["parameters"] = model.parameter_count();
    reply["tokenizer"] = core.served.tokenizer->kind();
    reply["limits"] = {{"max_tokens", core.limits.max_tokens},
                       {"max_concurrent", core.limits.max_concurrent},
                       {"max_body_bytes", core.limits.max_body_bytes},
                       {"max_stop_strings", core.limits.max_stop_strings}};
    reply["defaults"] = {{"max_tokens", std::min(kDefaultMaxTokens, core.limits.max_tokens)},
                         {"temperature", infer::SamplingOptions{}.temperature},
                         {"top_k", infer::SamplingOptions{}.top_k},
                         {"top_p", infer::SamplingOptions{}.top_p},
                         {"repetition_penalty", infer::SamplingOptions{}.repetition_penalty},
                         {"stop_at_eos", true}};
    reply["fields"] = generate_request_fields();
    reply["chat"] = {{"template", config::enum_name(core.served.chat.kind())},
                     {"user_name", core.served.chat.user_name()},
                     {"assistant_name", core.served.chat.assistant_name()}};
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
                                 {"generations_running", core.slots.running()},
                                 {"max_concurrent", core.limits.max_concurrent}}),
                      kJson);
    });
    http.Post("/v1/generate", [this](const httplib::Request& req, httplib::Response& res) {
      handle_generate(req, res);
    });
    add_openai_routes(http, core);
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
                           core.limits.max_body_bytes);
      default:
        return fmt::format("HTTP status {}", status);
    }
  }

  ServerCore core;
  const std::string api_key;  // empty: none needed
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
  impl_->core.served.model->eval();
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
