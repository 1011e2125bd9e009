// OpenAI's API on the real server (loopback, in-process, an untrained tiny
// GPT): replies equal infer::complete_batch() for the same rows and seeds,
// streams join up to the whole replies and end with [DONE], chats answer as
// the template lays them out, logprobs come in each endpoint's shape (echo
// scoring the prompt), errors come in OpenAI's shape, and an API key closes
// every endpoint but the page.
#include <map>
#include <string>
#include <vector>

#include "server_fixture.hpp"
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "loom/serve/openai_request.hpp"

namespace loom::serve {
namespace {

class OpenAiApiTest : public GenerationServerTest {
 protected:
  httplib::Result post_to(const std::string& path, const json& body,
                          const httplib::Headers& headers = {}) const {
    return client().Post(path, headers, body.dump(), "application/json");
  }

  // What complete_batch gives for these rows, seeded from `seed`.
  std::vector<infer::Completion> direct_rows(const std::vector<std::string>& rows,
                                             const OpenAiRequest& request) const {
    return infer::complete_batch(*model_, *tokenizer_, rows, request.options);
  }

  static void expect_openai_error(const httplib::Result& result, int status,
                                  const std::string& message, const json& param,
                                  const json& code = nullptr) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status);
    EXPECT_EQ(json::parse(result->body),
              json({{"error",
                     {{"message", message},
                      {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                      {"param", param},
                      {"code", code}}}}));
  }
};

const json kCompletions = {{"model", "tiny"}, {"prompt", {"abc", "de"}},
                           {"n", 2},          {"max_tokens", 30},
                           {"seed", 5},       {"temperature", 0.9}};

TEST_F(OpenAiApiTest, ModelsListsTheOneModel) {
  start();
  const httplib::Result list = client().Get("/v1/models");
  ASSERT_TRUE(list);
  EXPECT_EQ(
      json::parse(list->body),
      json({{"object", "list"},
            {"data",
             {{{"id", "tiny"}, {"object", "model"}, {"created", 0}, {"owned_by", "loom"}}}}}));
  const httplib::Result one = client().Get("/v1/models/tiny");
  ASSERT_TRUE(one);
  EXPECT_EQ(json::parse(one->body)["id"], "tiny");
  expect_openai_error(client().Get("/v1/models/gpt-4"), 404,
                      "the model 'gpt-4' does not exist; this server serves 'tiny'", "model",
                      "model_not_found");
}

TEST_F(OpenAiApiTest, CompletionsAreEachPromptNTimesWithSeedsInARow) {
  start();
  const httplib::Result result = post_to("/v1/completions", kCompletions);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json reply = json::parse(result->body);
  EXPECT_EQ(reply["object"], "text_completion");
  EXPECT_EQ(reply["model"], "tiny");
  EXPECT_EQ(reply["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  const OpenAiRequest request = parse_completions_request(kCompletions.dump(), ServeLimits{}, 0);
  const std::vector<infer::Completion> expected = direct_rows({"abc", "abc", "de", "de"}, request);
  ASSERT_EQ(reply["choices"].size(), 4u);
  std::int64_t tokens = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const json& choice = reply["choices"][i];
    EXPECT_EQ(choice["index"], i);
    EXPECT_EQ(choice["text"], expected[i].text) << i;
    EXPECT_EQ(choice["finish_reason"],
              expected[i].finish_reason == infer::FinishReason::length ? "length" : "stop");
    EXPECT_EQ(choice["logprobs"], nullptr);
    tokens += expected[i].tokens;
  }
  EXPECT_NE(reply["choices"][0]["text"], reply["choices"][1]["text"]) << "n texts are n draws";
  EXPECT_EQ(
      reply["usage"],
      json({{"prompt_tokens", 5}, {"completion_tokens", tokens}, {"total_tokens", 5 + tokens}}));
}

TEST_F(OpenAiApiTest, AStreamJoinsUpToTheReplyAndEndsWithDone) {
  start();
  json body = kCompletions;
  const json whole = json::parse(post_to("/v1/completions", body)->body);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  const httplib::Result result = post_to("/v1/completions", body);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<Event> events = parse_events(result->body);
  ASSERT_GE(events.size(), 6u);
  EXPECT_EQ(events.back().data, "[DONE]");
  const json& usage_chunk = events[events.size() - 2].data;
  EXPECT_EQ(usage_chunk["choices"], json::array());
  EXPECT_EQ(usage_chunk["usage"], whole["usage"]);
  std::map<int, std::string> texts;
  std::map<int, std::string> finish_reasons;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const json& chunk = events[i].data;
    EXPECT_EQ(chunk["object"], "text_completion");
    ASSERT_EQ(chunk["choices"].size(), 1u);
    const json& choice = chunk["choices"][0];
    const int index = choice["index"];
    EXPECT_FALSE(finish_reasons.count(index)) << "text after choice " << index << " finished";
    texts[index] += choice["text"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish_reasons[index] = choice["finish_reason"];
  }
  ASSERT_EQ(texts.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(texts[i], whole["choices"][i]["text"]) << i;
    EXPECT_EQ(finish_reasons[i], whole["choices"][i]["finish_reason"]) << i;
  }
}

TEST_F(OpenAiApiTest, EchoStartsEachTextWithItsPrompt) {
  start();
  json body = kCompletions;
  const json plain = json::parse(post_to("/v1/completions", body)->body);
  body["echo"] = true;
  const json echoed = json::parse(post_to("/v1/completions", body)->body);
  EXPECT_EQ(echoed["choices"][0]["text"], "abc" + plain["choices"][0]["text"].get<std::string>());
  EXPECT_EQ(echoed["choices"][2]["text"], "de" + plain["choices"][2]["text"].get<std::string>());
}

TEST_F(OpenAiApiTest, AChatAnswersAsTheTemplateLaysItOutStreamedOrNot) {
  start();
  const json body = {{"model", "tiny"},
                     {"messages", {{{"role", "user"}, {"content", "abc"}}}},
                     {"max_tokens", 40},
                     {"seed", 3},
                     {"temperature", 1.5}};
  const httplib::Result result = post_to("/v1/chat/completions", body);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json reply = json::parse(result->body);
  EXPECT_EQ(reply["object"], "chat.completion");
  EXPECT_EQ(reply["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  const ChatTemplate blocks(config::ChatTemplateKind::blocks, "user", "assistant");
  const OpenAiRequest request = parse_chat_request(body.dump(), ServeLimits{}, 0, blocks);
  ASSERT_EQ(request.prompts, std::vector<std::string>{"user:\nabc\n\nassistant:\n"});
  const infer::Completion expected = direct_rows(request.prompts, request).front();
  EXPECT_EQ(reply["choices"][0]["message"],
            json({{"role", "assistant"}, {"content", expected.text}}));
  EXPECT_EQ(reply["choices"][0]["finish_reason"],
            expected.finish_reason == infer::FinishReason::length ? "length" : "stop");
  EXPECT_EQ(expected.text.find("\n\n"), std::string::npos) << "the answer ends with its message";

  json streamed_body = body;
  streamed_body["stream"] = true;
  const std::vector<Event> events =
      parse_events(post_to("/v1/chat/completions", streamed_body)->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().data["choices"][0]["delta"],
            json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(events.back().data, "[DONE]");
  std::string text;
  for (std::size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].data["object"], "chat.completion.chunk");
    text += events[i].data["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(text, expected.text);
  EXPECT_EQ(events[events.size() - 2].data["choices"][0]["finish_reason"],
            reply["choices"][0]["finish_reason"]);
}

// Completions' logprobs: each token of the text, its figure and the
// likeliest at its step with it (as complete_batch reports them), offsets
// into the choice's text; streamed, the chunks' tokens join up to the
// whole reply's.
TEST_F(OpenAiApiTest, CompletionsReportLogprobsStreamedOrNot) {
  start();
  json body = {{"model", "tiny"}, {"prompt", "abc"}, {"max_tokens", 25},
               {"seed", 8},       {"logprobs", 2},   {"stop", "j"}};
  const httplib::Result result = post_to("/v1/completions", body);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json choice = json::parse(result->body)["choices"][0];
  const OpenAiRequest request = parse_completions_request(body.dump(), ServeLimits{}, 0);
  const infer::Completion expected = direct_rows({"abc"}, request).front();
  ASSERT_EQ(choice["text"], expected.text);
  const json& logprobs = choice["logprobs"];
  ASSERT_EQ(logprobs["tokens"].size(), expected.logprobs.size());
  for (std::size_t i = 0; i < expected.logprobs.size(); ++i) {
    const infer::TextLogprob& token = expected.logprobs[i];
    EXPECT_EQ(logprobs["tokens"][i], token.text);
    EXPECT_EQ(logprobs["token_logprobs"][i], *token.logprob);
    EXPECT_EQ(logprobs["text_offset"][i], token.offset);
    json top = {{token.text, *token.logprob}};
    for (const auto& [text, logprob] : token.top)
      top[text] = logprob;
    EXPECT_EQ(logprobs["top_logprobs"][i], top);
  }

  body["stream"] = true;
  const std::vector<Event> events = parse_events(post_to("/v1/completions", body)->body);
  json joined = {{"tokens", json::array()},
                 {"token_logprobs", json::array()},
                 {"top_logprobs", json::array()},
                 {"text_offset", json::array()}};
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const json& chunk_logprobs = events[i].data["choices"][0]["logprobs"];
    if (chunk_logprobs.is_null()) continue;
    for (const auto& [key, values] : joined.items()) {
      for (const json& value : chunk_logprobs[key])
        values.push_back(value);
    }
  }
  EXPECT_EQ(joined, logprobs);
}

// The evaluation harnesses' request: echo, logprobs and no new tokens
// score the prompt itself; the first token has no figure.
TEST_F(OpenAiApiTest, EchoWithLogprobsScoresThePrompt) {
  start();
  json body = {{"model", "tiny"},
               {"prompt", {"abc", "hi ja"}},
               {"max_tokens", 0},
               {"echo", true},
               {"logprobs", 0}};
  const httplib::Result result = post_to("/v1/completions", body);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json reply = json::parse(result->body);
  const std::vector<std::string> prompts = {"abc", "hi ja"};
  for (std::size_t row = 0; row < prompts.size(); ++row) {
    const json& choice = reply["choices"][row];
    EXPECT_EQ(choice["text"], prompts[row]);
    const std::vector<infer::TextLogprob> expected =
        infer::prompt_logprobs(*model_, *tokenizer_, prompts[row], {});
    const json& logprobs = choice["logprobs"];
    ASSERT_EQ(logprobs["tokens"].size(), prompts[row].size());
    EXPECT_EQ(logprobs["token_logprobs"][0], nullptr);
    EXPECT_EQ(logprobs["top_logprobs"][0], nullptr);
    for (std::size_t i = 1; i < expected.size(); ++i) {
      EXPECT_EQ(logprobs["tokens"][i], expected[i].text);
      EXPECT_EQ(logprobs["token_logprobs"][i], *expected[i].logprob);
      EXPECT_EQ(logprobs["top_logprobs"][i], json({{expected[i].text, *expected[i].logprob}}));
      EXPECT_EQ(logprobs["text_offset"][i], i);
    }
  }
  EXPECT_EQ(reply["usage"]["completion_tokens"], 0);

  // With new tokens, theirs follow the prompt's, offsets past it.
  body["max_tokens"] = 5;
  body["prompt"] = "abc";
  const json generated = json::parse(post_to("/v1/completions", body)->body);
  const json& choice = generated["choices"][0];
  const json& tokens = choice["logprobs"]["tokens"];
  // Fewer than 5 when the model draws <eos>.
  ASSERT_EQ(tokens.size(), 3u + generated["usage"]["completion_tokens"].get<std::size_t>());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(choice["logprobs"]["text_offset"][i], offset) << i;
    offset += tokens[i].get<std::string>().size();
  }
  EXPECT_EQ(offset, choice["text"].get<std::string>().size());

  // n choices of one prompt share its scores; streamed, the echo's chunk
  // carries them.
  body["n"] = 2;
  body["max_tokens"] = 0;
  const json twice = json::parse(post_to("/v1/completions", body)->body);
  ASSERT_EQ(twice["choices"].size(), 2u);
  EXPECT_EQ(twice["choices"][1]["logprobs"], twice["choices"][0]["logprobs"]);
  body["stream"] = true;
  const std::vector<Event> events = parse_events(post_to("/v1/completions", body)->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0].data["choices"][0]["text"], "abc");
  EXPECT_EQ(events[0].data["choices"][0]["logprobs"], twice["choices"][0]["logprobs"]);

  // Past the model's context (8) a prompt is not scored.
  body["stream"] = false;
  body["prompt"] = "abcdefghij";
  expect_openai_error(post_to("/v1/completions", body), 400,
                      "'echo' with 'logprobs' scores prompts of at most 8 tokens (the model's "
                      "context); prompt 0 has 10",
                      "prompt");
}

// A byte tokenizer's tokens can be bytes of a character: they read
// "bytes:\xNN" and never clash in top_logprobs; streamed, the chunks, held
// back to whole characters, carry the same tokens as the whole reply.
TEST_F(OpenAiApiTest, ByteTokensAreSpelledAsOpenAIDoes) {
  start(ServeLimits{}, /*byte_tokenizer=*/true);
  json body = {{"model", "tiny"}, {"prompt", "h\xc3\xa9"}, {"max_tokens", 40},
               {"seed", 2},       {"logprobs", 5},         {"temperature", 1.0}};
  const json whole = json::parse(post_to("/v1/completions", body)->body)["choices"][0];
  const json& tokens = whole["logprobs"]["tokens"];
  ASSERT_FALSE(tokens.empty());
  std::size_t spelled = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string token = tokens[i];
    if (token.rfind("bytes:\\x", 0) == 0) {
      ++spelled;
      EXPECT_EQ(token.size(), 10u) << token;  // one byte: bytes:\xNN
    }
    // Five alternatives and the chosen token, none lost to a clash of names.
    EXPECT_GE(whole["logprobs"]["top_logprobs"][i].size(), 5u) << i;
  }
  EXPECT_GT(spelled, 0u) << "an untrained byte model draws bytes above 0x7f";
  body["stream"] = true;
  const std::vector<Event> events = parse_events(post_to("/v1/completions", body)->body);
  json streamed = json::array();
  std::string text;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const json& choice = events[i].data["choices"][0];
    text += choice["text"].get<std::string>();
    if (choice["logprobs"].is_null()) continue;
    for (const json& token : choice["logprobs"]["tokens"])
      streamed.push_back(token);
  }
  EXPECT_EQ(streamed, tokens);
  EXPECT_EQ(text, whole["text"]);
}

// Chat's logprobs: {"content": [{token, logprob, bytes, top_logprobs}]}
// for the answer's tokens, streamed or not.
TEST_F(OpenAiApiTest, AChatReportsLogprobsInItsShape) {
  start();
  json body = {{"model", "tiny"},  {"messages", {{{"role", "user"}, {"content", "abc"}}}},
               {"max_tokens", 30}, {"seed", 3},
               {"logprobs", true}, {"top_logprobs", 3}};
  const json choice = json::parse(post_to("/v1/chat/completions", body)->body)["choices"][0];
  const ChatTemplate blocks(config::ChatTemplateKind::blocks, "user", "assistant");
  const OpenAiRequest request = parse_chat_request(body.dump(), ServeLimits{}, 0, blocks);
  const infer::Completion expected = direct_rows(request.prompts, request).front();
  const json& content = choice["logprobs"]["content"];
  ASSERT_EQ(content.size(), expected.logprobs.size());
  EXPECT_EQ(choice["logprobs"]["refusal"], nullptr);
  std::string joined;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const infer::TextLogprob& token = expected.logprobs[i];
    const std::string text = content[i]["token"];
    joined += text;
    EXPECT_EQ(text, token.text);
    EXPECT_EQ(content[i]["logprob"], *token.logprob);
    EXPECT_EQ(content[i]["bytes"], json(std::vector<int>(token.text.begin(), token.text.end())));
    ASSERT_EQ(content[i]["top_logprobs"].size(), 3u);
    EXPECT_EQ(content[i]["top_logprobs"][0]["token"], token.top[0].first);
    EXPECT_EQ(content[i]["top_logprobs"][0]["logprob"], token.top[0].second);
    EXPECT_GE(content[i]["top_logprobs"][0]["logprob"], content[i]["top_logprobs"][2]["logprob"]);
  }
  EXPECT_EQ(joined.substr(0, expected.text.size()), expected.text);

  body["stream"] = true;
  const std::vector<Event> events = parse_events(post_to("/v1/chat/completions", body)->body);
  json streamed = json::array();
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const json& chunk_logprobs = events[i].data["choices"][0]["logprobs"];
    if (chunk_logprobs.is_null()) continue;
    for (const json& item : chunk_logprobs["content"])
      streamed.push_back(item);
  }
  EXPECT_EQ(streamed, content);
}

TEST_F(OpenAiApiTest, ErrorsComeInOpenAIsShape) {
  start();
  expect_openai_error(post_to("/v1/completions", {{"model", "tiny"}, {"prompt", "a"}, {"n", "2"}}),
                      400, "'n' must be an integer, got string \"2\"", "n");
  expect_openai_error(post_to("/v1/completions", {{"model", "gpt-4"}, {"prompt", "a"}}), 404,
                      "the model 'gpt-4' does not exist; this server serves 'tiny'", "model",
                      "model_not_found");
  expect_openai_error(client().Post("/v1/chat/completions", "{", "application/json"), 400,
                      "the body is not valid JSON: parse error at line 1, column 2: syntax error "
                      "while parsing object key - unexpected end of "
                      "input; expected string literal",
                      nullptr);
  // Loom's own endpoint keeps its shape.
  const httplib::Result loom_error = post({{"n", 2}});
  ASSERT_TRUE(loom_error);
  EXPECT_EQ(json::parse(loom_error->body)["error"].type(), json::value_t::string);
}

TEST_F(OpenAiApiTest, AnApiKeyClosesEveryEndpointButThePage) {
  start({}, false, "s3cret");
  const httplib::Headers good = {{"Authorization", "Bearer s3cret"}};
  const httplib::Headers wrong = {{"Authorization", "Bearer s3cre7"}};
  const json body = {{"model", "tiny"}, {"prompt", "a"}, {"max_tokens", 2}};
  expect_openai_error(post_to("/v1/completions", body), 401,
                      "this server needs an API key: send the header \"Authorization: Bearer "
                      "KEY\"",
                      nullptr, "invalid_api_key");
  expect_openai_error(post_to("/v1/completions", body, wrong), 401,
                      "the API key is not this server's", nullptr, "invalid_api_key");
  const httplib::Result allowed = post_to("/v1/completions", body, good);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  for (const char* path : {"/v1/models", "/v1/model", "/v1/health"}) {
    const httplib::Result refused = client().Get(path);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << path;
    EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer") << path;
    EXPECT_EQ(client().Get(path, good)->status, 200) << path;
  }
  const httplib::Result loom_refused = post({{"prompt", "a"}});
  ASSERT_TRUE(loom_refused);
  EXPECT_EQ(
      json::parse(loom_refused->body),
      json({{"error",
             "this server needs an API key: send the header \"Authorization: Bearer KEY\""}}));
  const httplib::Result page = client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

}  // namespace
}  // namespace loom::serve
