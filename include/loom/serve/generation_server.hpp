// `loom serve`: a trained model behind a small HTTP API, OpenAI's API and
// the playground page, on cpp-httplib.
//
//   GET  /               the playground (one page, served from the binary)
//   GET  /v1/model       the model: its config, vocabulary, parameters, the
//                        checkpoint it came from, and the server's limits
//   GET  /v1/health      {"status": "ok", "generations_running": N, ...}
//   POST /v1/generate    a GenerateRequest (generate_request.hpp); replies
//                        {"text", "finish_reason", "tokens", "prompt_tokens",
//                        "seed", "seconds"}, or with "stream": true, server-sent
//                        events: "start" {"prompt_tokens", "seed"}, then one
//                        unnamed event {"text": piece} per piece of text, then
//                        "done" (the reply's fields but "text") or "error".
//
// OpenAI's API, for the clients and front ends that speak it
// (openai_request.hpp for the fields taken):
//   GET  /v1/models, GET /v1/models/ID     the one model, its id the run's name
//   POST /v1/completions                  text completions
//   POST /v1/chat/completions             chats, laid out by ChatTemplate
// Streamed ("stream": true) as OpenAI streams: "data: CHUNK" events, the
// last "data: [DONE]". Their errors are OpenAI's {"error": {"message",
// "type", "param", "code"}}.
//
// Loom's own endpoints answer errors as {"error": message}, with a 4xx
// status (400 bad request, 401 no or wrong API key, 404 no such endpoint,
// 413 body too large) or 503 when max_concurrent generations are already
// running. Text in replies is valid UTF-8: a character split across tokens
// is sent once whole, invalid bytes as U+FFFD.
//
// With an API key, every endpoint but the page needs the header
// "Authorization: Bearer KEY".
//
// Each connection has a thread of its own and the model is only read (eval
// mode), so generations run side by side and a client that reads slowly
// holds up only its own generation; one that reads nothing for
// write_timeout_seconds, or hangs up, ends it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "loom/model/language_model.hpp"
#include "loom/serve/chat_template.hpp"
#include "loom/serve/generate_request.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::serve {

struct ServedModel {
  std::shared_ptr<model::LanguageModel> model;  // put in eval mode by the server
  std::shared_ptr<const text::Tokenizer> tokenizer;
  // Shown by GET /v1/model beside the model's config, e.g. the run's name,
  // the checkpoint folder and its step.
  nlohmann::json about = nlohmann::json::object();
  // Every generation runs under autocast to this dtype (the run's chosen
  // precision, or serve's --precision); none: fp32.
  std::optional<at::ScalarType> autocast_dtype;
  // The model's name in OpenAI's API: requests must name it.
  std::string id = "loom";
  ChatTemplate chat{config::ChatTemplateKind::blocks, "user", "assistant"};
};

class GenerationServer {
 public:
  // A non-empty `api_key` is required of every request but the page's.
  GenerationServer(ServedModel served, ServeLimits limits, std::string api_key = {});
  ~GenerationServer();
  GenerationServer(const GenerationServer&) = delete;
  GenerationServer& operator=(const GenerationServer&) = delete;

  // Binds host:port (port 0: any free port) and returns the port. Throws
  // loom::Error naming the address when it cannot.
  int bind(const std::string& host, int port);

  // Serves until stop(); call bind() first.
  void serve();

  // Makes serve() return; ongoing generations end as their clients are cut
  // off. Safe from any thread, also before serve() starts.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The playground page (src/serve/playground.html).
const std::string& playground_html();

}  // namespace loom::serve
