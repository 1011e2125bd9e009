// `loom serve`: a trained model behind a small HTTP API and the playground
// page, on cpp-httplib.
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
// Errors are JSON {"error": message} with a 4xx status (400 bad request,
// 404 no such endpoint, 413 body too large) or 503 when max_concurrent
// generations are already running. Text in replies is valid UTF-8: a
// character split across tokens is sent once whole, invalid bytes as U+FFFD.
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
};

class GenerationServer {
 public:
  GenerationServer(ServedModel served, ServeLimits limits);
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
