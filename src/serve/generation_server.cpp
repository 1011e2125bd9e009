// The HTTP side of `loom serve`: routes, JSON replies, server-sent events,
// and the cap on generations running at once. Generation itself is
// infer::complete_batch() on the shared model.
#include "loom/serve/generation_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include "loom/export/model_export.hpp"
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
  Impl(ServedModel served_model, ServeLimits server_limits)
      : served(std::move(served_model)), limits(server_limits), slots(limits.max_concurrent) {}

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
    infer::CompletionOptions options = request.options;
    options.sampling.autocast_dtype = served.autocast_dtype;
    outcome.completion =
        infer::complete_batch(*served.model, *served.tokenizer, {request.prompt}, options, on_text)
            .front();
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

  void handle_generate(const httplib::Request& req, httplib::Response& res) {
    GenerateRequest request;
    try {
      request = parse_generate_request(req.body, limits, draw_seed());
    } catch (const BadRequest& e) {
      reply_error(res, 400, e.what());
      return;
    }
    std::shared_ptr<GenerationSlots::Slot> slot = slots.try_acquire();
    if (!slot) {
      res.set_header("Retry-After", "1");
      reply_error(res, 503,
                  fmt::format("busy: the server runs at most {} generation{} at once; try again "
                              "shortly",
                              limits.max_concurrent, limits.max_concurrent == 1 ? "" : "s"));
      return;
    }
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
    // Statuses httplib sets itself (no route, body too large, a malformed
    // request) get a JSON message too; replies that carry one keep it.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (res.body.empty()) reply_error(res, res.status, status_message(req, res.status));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
          std::string message = "internal error";
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            message = e.what();
          } catch (...) {
          }
          reply_error(res, 500, message);
        });
  }

  std::string status_message(const httplib::Request& req, int status) const {
    switch (status) {
      case 404:
        return fmt::format(
            "no such endpoint: {} {}; there are GET /, GET /v1/model, GET /v1/health and POST "
            "/v1/generate",
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
  GenerationSlots slots;
  httplib::Server http;
  std::atomic<bool> stopping{false};
};

GenerationServer::GenerationServer(ServedModel served, ServeLimits limits)
    : impl_(std::make_unique<Impl>(std::move(served), limits)) {
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
