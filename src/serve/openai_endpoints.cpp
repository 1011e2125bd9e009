// OpenAI's API on Loom's server: the routes, each request's rows, whole
// replies and streams. Parsing is openai_request.cpp's, the JSON shapes
// openai_replies.cpp's.
#include "openai_endpoints.hpp"

#include <memory>

#include "openai_replies.hpp"
#include <fmt/format.h>

#include "loom/serve/openai_request.hpp"
#include "loom/text/utf8.hpp"

namespace loom::serve::detail {
namespace {

using nlohmann::json;

// Owned by the routes it adds (each holds a reference), so it lives as long
// as the server that calls them.
class OpenAiEndpoints : public std::enable_shared_from_this<OpenAiEndpoints> {
 public:
  explicit OpenAiEndpoints(ServerCore& server_core) : core(server_core) {}

  void add_routes(httplib::Server& http) {
    auto self = shared_from_this();
    http.Get("/v1/models", [this, self](const httplib::Request&, httplib::Response& res) {
      res.set_content(json_text(models_reply()), kJson);
    });
    http.Get(R"(/v1/models/(.+))",
             [this, self](const httplib::Request& req, httplib::Response& res) {
               if (req.matches[1] != core.served.id) {
                 reply_model_not_found(res, req.matches[1].str());
                 return;
               }
               res.set_content(json_text(model_entry()), kJson);
             });
    http.Post("/v1/completions", [this, self](const httplib::Request& req, httplib::Response& res) {
      handle_openai(req, res, OpenAiEndpoint::completions);
    });
    http.Post("/v1/chat/completions",
              [this, self](const httplib::Request& req, httplib::Response& res) {
                handle_openai(req, res, OpenAiEndpoint::chat_completions);
              });
  }

 private:
  void reply_model_not_found(httplib::Response& res, const std::string& model) const {
    reply_openai_error(res, 404,
                       fmt::format("the model '{}' does not exist; this server serves '{}'", model,
                                   core.served.id),
                       "model", "model_not_found");
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

  // With echo and logprobs, each prompt's tokens scored (once, whatever n);
  // else nothing.
  std::vector<std::vector<infer::TextLogprob>> scored_prompts(const OpenAiRequest& request) const {
    std::vector<std::vector<infer::TextLogprob>> scored;
    if (!request.echo || !request.options.sampling.logprobs) return scored;
    for (const std::string& prompt : request.prompts)
      scored.push_back(core.prompt_logprobs(prompt, request.options.sampling));
    return scored;
  }

  // Why echo with logprobs cannot score one of the prompts, or nothing: a
  // prompt longer than the model's context. Inside it the prompt costs one
  // forward pass; past it every token would cost a pass of its own (with
  // learned positions a whole window's).
  std::string unscorable_prompt(const OpenAiRequest& request) const {
    if (!request.echo || !request.options.sampling.logprobs) return {};
    const std::int64_t context = core.served.model->context_length();
    for (std::size_t i = 0; i < request.prompts.size(); ++i) {
      const std::int64_t tokens = core.prompt_tokens(request.prompts[i]);
      if (tokens > context) {
        return fmt::format(
            "'echo' with 'logprobs' scores prompts of at most {} tokens (the model's context); "
            "prompt {} has {}",
            context, i, tokens);
      }
    }
    return {};
  }

  // Generated tokens with their offsets in the choice's text: past the
  // prompt when it is echoed.
  static std::vector<infer::TextLogprob> in_choice(const OpenAiRequest& request,
                                                   const std::string& prompt,
                                                   std::vector<infer::TextLogprob> generated) {
    if (request.echo) {
      for (infer::TextLogprob& token : generated)
        token.offset += static_cast<std::int64_t>(prompt.size());
    }
    return generated;
  }

  // A choice's logprobs: with echo, its prompt's tokens, then the generated
  // ones; null when not asked for.
  static json choice_logprobs(const OpenAiReplyHeader& header, const OpenAiRequest& request,
                              const std::vector<std::vector<infer::TextLogprob>>& scored,
                              std::size_t row, const std::string& prompt,
                              const std::vector<infer::TextLogprob>& generated) {
    if (!request.options.sampling.logprobs) return nullptr;
    std::vector<infer::TextLogprob> tokens;
    if (request.echo) tokens = scored[row / static_cast<std::size_t>(request.n)];
    for (infer::TextLogprob& token : in_choice(request, prompt, generated))
      tokens.push_back(std::move(token));
    return logprobs_json(header.endpoint, tokens);
  }

  // Prompt tokens as OpenAI counts them: each prompt once, whatever n.
  std::int64_t openai_prompt_tokens(const OpenAiRequest& request) const {
    std::int64_t tokens = 0;
    for (const std::string& prompt : request.prompts) {
      tokens += core.prompt_tokens(prompt);
    }
    return tokens;
  }

  void handle_openai(const httplib::Request& req, httplib::Response& res, OpenAiEndpoint endpoint) {
    OpenAiRequest request;
    try {
      request = endpoint == OpenAiEndpoint::completions
                    ? parse_completions_request(req.body, core.limits, draw_seed())
                    : parse_chat_request(req.body, core.limits, draw_seed(), core.served.chat);
    } catch (const BadRequest& e) {
      reply_openai_error(res, 400, e.what(), e.param());
      return;
    }
    if (request.model != core.served.id) {
      reply_model_not_found(res, request.model);
      return;
    }
    if (const std::string refusal = unscorable_prompt(request); !refusal.empty()) {
      reply_openai_error(res, 400, refusal, "prompt");
      return;
    }
    std::shared_ptr<GenerationSlots::Slot> slot = core.acquire_slot(req, res);
    if (!slot) return;
    const OpenAiReplyHeader header = OpenAiReplyHeader::start(endpoint, core.served.id);
    if (!request.stream) {
      const std::vector<std::string> rows = choice_prompts(request);
      const std::vector<std::vector<infer::TextLogprob>> scored = scored_prompts(request);
      const std::vector<infer::Completion> completions = core.complete(rows, request.options, {});
      json reply = reply_json(header);
      reply["choices"] = json::array();
      std::int64_t completion_tokens = 0;
      for (std::size_t row = 0; row < rows.size(); ++row) {
        const infer::Completion& completion = completions[row];
        const std::string text = request.echo ? rows[row] + completion.text : completion.text;
        reply["choices"].push_back(choice_json(
            endpoint, static_cast<std::int64_t>(row), text::replace_invalid_utf8(text),
            completion.finish_reason,
            choice_logprobs(header, request, scored, row, rows[row], completion.logprobs)));
        completion_tokens += completion.tokens;
      }
      reply["usage"] = usage_json(openai_prompt_tokens(request), completion_tokens);
      res.set_content(json_text(reply), kJson);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        // The slot travels with the provider: it is freed when the response is
        // over, or dropped unsent.
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
  void stream_openai(const OpenAiReplyHeader& header, const OpenAiRequest& request,
                     httplib::DataSink& sink) {
    const auto send_text = [&sink](const std::string& event) {
      return sink.write(event.data(), event.size());
    };
    const auto send = [&](const json& chunk) { return send_text(sse_event("", chunk)); };
    const std::vector<std::string> rows = choice_prompts(request);
    const bool chat = header.endpoint == OpenAiEndpoint::chat_completions;
    const bool logprobs = request.options.sampling.logprobs;
    // Each choice's tokens whose text has not gone out yet: a piece ending
    // inside a UTF-8 character is held back until the character is whole.
    std::vector<std::vector<infer::TextLogprob>> unsent(rows.size());
    // A chunk of `text` with the row's unsent tokens.
    const auto text_chunk = [&](std::size_t row, const std::string& text) {
      json tokens = nullptr;
      if (logprobs) {
        tokens = logprobs_json(header.endpoint, in_choice(request, rows[row], unsent[row]));
        unsent[row].clear();
      }
      return chunk_json(header, static_cast<std::int64_t>(row), text, nullptr, std::move(tokens));
    };
    try {
      const std::vector<std::vector<infer::TextLogprob>> scored = scored_prompts(request);
      for (std::size_t row = 0; row < rows.size(); ++row) {
        const auto index = static_cast<std::int64_t>(row);
        if (chat && !send(role_chunk_json(header, index))) return;
        if (!request.echo) continue;
        const json prompt_tokens =
            logprobs
                ? logprobs_json(header.endpoint, scored[row / static_cast<std::size_t>(request.n)])
                : json(nullptr);
        if (!send(chunk_json(header, index, text::replace_invalid_utf8(rows[row]), nullptr,
                             prompt_tokens)))
          return;
      }
      std::vector<text::Utf8StreamDecoder> utf8(rows.size());
      const std::vector<infer::Completion> completions =
          core.complete(rows, request.options, [&](std::size_t row, const infer::TextPiece& piece) {
            unsent[row].insert(unsent[row].end(), piece.logprobs.begin(), piece.logprobs.end());
            const std::string text = utf8[row].add(piece.text);
            return text.empty() || send(text_chunk(row, text));
          });
      std::int64_t completion_tokens = 0;
      for (std::size_t row = 0; row < rows.size(); ++row) {
        const infer::Completion& completion = completions[row];
        if (completion.finish_reason == infer::FinishReason::cancelled) return;
        const auto index = static_cast<std::int64_t>(row);
        const std::string rest = utf8[row].flush();
        if ((!rest.empty() || !unsent[row].empty()) && !send(text_chunk(row, rest))) return;
        if (!send(chunk_json(header, index, "", openai_finish_reason(completion.finish_reason))))
          return;
        completion_tokens += completion.tokens;
      }
      if (request.include_usage &&
          !send(usage_chunk_json(header,
                                 usage_json(openai_prompt_tokens(request), completion_tokens))))
        return;
    } catch (const std::exception& e) {
      send(openai_error_json(e.what(), 500));
    }
    send_text("data: [DONE]\n\n");
  }

  json models_reply() const { return {{"object", "list"}, {"data", json::array({model_entry()})}}; }

  json model_entry() const {
    return {{"id", core.served.id}, {"object", "model"}, {"created", 0}, {"owned_by", "loom"}};
  }

  ServerCore& core;
};

}  // namespace

void add_openai_routes(httplib::Server& http, ServerCore& core) {
  std::make_shared<OpenAiEndpoints>(core)->add_routes(http);
}

}  // namespace loom::serve::detail
