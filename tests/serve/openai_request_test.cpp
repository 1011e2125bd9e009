// OpenAI-style request bodies and the chat templates, without a server:
// OpenAI's defaults, every field read, fields Loom cannot honour refused
// by name unless neutral, and chats laid out exactly as the run's text.
#include "loom/serve/openai_request.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "loom/config/config.hpp"
#include "loom/core/error.hpp"
#include "loom/serve/chat_template.hpp"

namespace loom::serve {
namespace {

using config::ChatTemplateKind;
using nlohmann::json;

const ChatTemplate kBlocks(ChatTemplateKind::blocks, "user", "assistant");

OpenAiRequest completions(const json& body, const ServeLimits& limits = {}) {
  return parse_completions_request(body.dump(), limits, 99);
}

OpenAiRequest chat(const json& body, const ChatTemplate& chat_template = kBlocks) {
  return parse_chat_request(body.dump(), ServeLimits{}, 99, chat_template);
}

// The message and param of the BadRequest parsing `body` throws.
std::pair<std::string, std::string> refusal(const json& body, bool is_chat = false) {
  try {
    if (is_chat) {
      chat(body);
    } else {
      completions(body);
    }
  } catch (const BadRequest& e) {
    return {e.what(), e.param()};
  }
  return {"accepted", ""};
}

TEST(OpenAiRequest, CompletionsTakeOpenAIsDefaults) {
  const OpenAiRequest request = completions({{"model", "m"}, {"prompt", "ab"}});
  EXPECT_EQ(request.model, "m");
  EXPECT_EQ(request.prompts, std::vector<std::string>{"ab"});
  EXPECT_EQ(request.n, 1);
  EXPECT_FALSE(request.stream);
  EXPECT_FALSE(request.echo);
  EXPECT_EQ(request.options.sampling.max_new_tokens, kOpenAiCompletionDefaultMaxTokens);
  EXPECT_EQ(request.options.sampling.seed, 99u);
  EXPECT_EQ(request.options.sampling.temperature, 1.0);
  EXPECT_TRUE(request.options.sampling.stop_at_eos);
  EXPECT_TRUE(request.options.stop.empty());
}

TEST(OpenAiRequest, CompletionsReadEveryField) {
  const OpenAiRequest request = completions({{"model", "m"},
                                             {"prompt", {"a", "b"}},
                                             {"max_tokens", 7},
                                             {"temperature", 0.5},
                                             {"top_p", 0.9},
                                             {"n", 3},
                                             {"stop", "\n"},
                                             {"seed", 11},
                                             {"stream", true},
                                             {"echo", true},
                                             {"top_k", 4},
                                             {"repetition_penalty", 1.2},
                                             {"user", "someone"},
                                             {"logprobs", nullptr},
                                             {"presence_penalty", 0},
                                             {"best_of", 1},
                                             {"frequency_penalty", 0.0},
                                             {"stream_options", {{"include_usage", true}}}});
  EXPECT_EQ(request.prompts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(request.n, 3);
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.echo);
  EXPECT_TRUE(request.include_usage);
  EXPECT_EQ(request.options.sampling.max_new_tokens, 7);
  EXPECT_EQ(request.options.sampling.temperature, 0.5);
  EXPECT_EQ(request.options.sampling.top_p, 0.9);
  EXPECT_EQ(request.options.sampling.top_k, 4);
  EXPECT_EQ(request.options.sampling.repetition_penalty, 1.2);
  EXPECT_EQ(request.options.sampling.seed, 11u);
  EXPECT_EQ(request.options.stop, std::vector<std::string>{"\n"});
  EXPECT_FALSE(request.options.sampling.logprobs) << "logprobs: null asks for none";
}

TEST(OpenAiRequest, WhatLoomCannotDoIsRefusedByName) {
  using Refusal = std::pair<std::string, std::string>;
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"presence_penalty", 0.5}}),
            Refusal("'presence_penalty' is not supported by Loom's server (use "
                    "repetition_penalty, Loom's sampler's penalty); got number 0.5",
                    "presence_penalty"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"best_of", 2}}),
            Refusal("'best_of' is not supported by Loom's server (each text is drawn once; ask "
                    "for n texts instead); got number 2",
                    "best_of"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"suffix", "end"}}),
            Refusal("'suffix' is not supported by Loom's server (the models only continue "
                    "text, never fill in); got string \"end\"",
                    "suffix"));
  EXPECT_EQ(refusal({{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"tools", {{{"type", "function"}}}}},
                    true),
            Refusal("'tools' is not supported by Loom's server (Loom's models call no tools or "
                    "functions); got array [{\"type\":\"function\"}]",
                    "tools"));
  EXPECT_EQ(refusal({{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"response_format", {{"type", "json_object"}}}},
                    true),
            Refusal("'response_format' is not supported by Loom's server (the models write free "
                    "text only); got object {\"type\":\"json_object\"}",
                    "response_format"));
}

// Completions' logprobs is a count; chat's a switch with top_logprobs.
TEST(OpenAiRequest, LogprobsAreReadAsEachEndpointDefinesThem) {
  const OpenAiRequest none = completions({{"model", "m"}, {"prompt", "a"}, {"logprobs", 0}});
  EXPECT_TRUE(none.options.sampling.logprobs);
  EXPECT_EQ(none.options.sampling.top_logprobs, 0);
  const OpenAiRequest five = completions({{"model", "m"}, {"prompt", "a"}, {"logprobs", 5}});
  EXPECT_EQ(five.options.sampling.top_logprobs, 5);
  const json chat_body = {{"model", "m"},
                          {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                          {"logprobs", true},
                          {"top_logprobs", 20}};
  const ChatTemplate blocks(config::ChatTemplateKind::blocks, "user", "assistant");
  const OpenAiRequest chat = parse_chat_request(chat_body.dump(), ServeLimits{}, 0, blocks);
  EXPECT_TRUE(chat.options.sampling.logprobs);
  EXPECT_EQ(chat.options.sampling.top_logprobs, 20);

  using Refusal = std::pair<std::string, std::string>;
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"logprobs", 21}}),
            Refusal("'logprobs' must be between 0 and 20, got 21", "logprobs"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"logprobs", true}}),
            Refusal("'logprobs' must be an integer, got boolean true", "logprobs"));
  EXPECT_EQ(refusal({{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"top_logprobs", 2}},
                    true),
            Refusal("'top_logprobs' is only allowed with \"logprobs\": true", "top_logprobs"));
  const json neutral = {
      {"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"top_logprobs", 0}};
  EXPECT_FALSE(
      parse_chat_request(neutral.dump(), ServeLimits{}, 0, blocks).options.sampling.logprobs)
      << "top_logprobs: 0 alone asks for nothing";
  EXPECT_EQ(refusal({{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"logprobs", true},
                     {"top_logprobs", -1}},
                    true),
            Refusal("'top_logprobs' must be between 0 and 20, got -1", "top_logprobs"));
}

TEST(OpenAiRequest, BadRequestsSayWhatIsWrong) {
  using Refusal = std::pair<std::string, std::string>;
  EXPECT_EQ(refusal({{"prompt", "a"}}),
            Refusal("'model' is required: see GET /v1/models", "model"));
  EXPECT_EQ(refusal({{"model", "m"}}), Refusal("'prompt' is required", "prompt"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", {1, 2}}}),
            Refusal("'prompt' must be a string or a list of strings (token ids are not taken), "
                    "got array [1,2]",
                    "prompt"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"n", 0}}),
            Refusal("'n' must be at least 1, got 0", "n"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", {"a", "b", "c"}}, {"n", 6}}),
            Refusal("the request asks for 18 texts (3 prompts x n = 6); the server makes at most "
                    "16 per request",
                    "n"));
  EXPECT_EQ(refusal({{"model", "m"}, {"prompt", "a"}, {"temprature", 1}}),
            Refusal("unknown field 'temprature'; did you mean 'temperature'?", "temprature"));
  EXPECT_EQ(
      refusal({{"model", "m"}, {"prompt", "a"}, {"stream_options", {{"include_usage", true}}}}),
      Refusal("'stream_options' is only allowed with \"stream\": true", "stream_options"));
  EXPECT_EQ(
      refusal({{"model", "m"}, {"prompt", "a"}, {"max_tokens", 5000}}),
      Refusal("'max_tokens' must be from 0 to 2048 (the server's limit), got 5000", "max_tokens"));
  EXPECT_EQ(refusal({{"model", "m"}, {"messages", json::array()}}, true),
            Refusal("'messages' must be a non-empty list of {\"role\", \"content\"} objects, got "
                    "array []",
                    "messages"));
  EXPECT_EQ(refusal({{"model", "m"}, {"messages", {{{"role", "tool"}, {"content", "x"}}}}}, true),
            Refusal("messages[0].role must be system, developer, user or assistant, got \"tool\" "
                    "(Loom's models call no tools)",
                    "messages[0].role"));
  EXPECT_EQ(
      refusal({{"model", "m"},
               {"messages",
                {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", "x"}}}}}}}},
              true),
      Refusal("messages[0].content may only hold parts {\"type\": \"text\", \"text\": ...} "
              "(the models read text), got object {\"image_url\":\"x\",\"type\":\"image_url\"}",
              "messages[0].content"));
}

TEST(OpenAiRequest, AChatIsLaidOutByTheTemplateAndTheAnswerEndsWithItsMessage) {
  const OpenAiRequest request =
      chat({{"model", "m"},
            {"messages",
             {{{"role", "system"}, {"content", "A play."}},
              {{"role", "user"}, {"content", "Who goes there?"}, {"name", "BERNARDO"}},
              {{"role", "assistant"}, {"content", "Nay, answer me."}},
              {{"role", "user"},
               {"content",
                {{{"type", "text"}, {"text", "Long live "}},
                 {{"type", "text"}, {"text", "the king!"}}}}}}},
            {"stop", "END"}});
  EXPECT_EQ(request.prompts, std::vector<std::string>{"A play.\n\n"
                                                      "BERNARDO:\nWho goes there?\n\n"
                                                      "assistant:\nNay, answer me.\n\n"
                                                      "user:\nLong live the king!\n\n"
                                                      "assistant:\n"});
  EXPECT_EQ(request.options.stop, (std::vector<std::string>{"END", "\n\n"}));
  EXPECT_EQ(request.options.sampling.max_new_tokens, kDefaultMaxTokens);
}

TEST(ChatTemplate, LinesAreHowPrepareWritesChatExportsWithAuthors) {
  const ChatTemplate lines(ChatTemplateKind::lines, "ana", "bot");
  EXPECT_EQ(lines.prompt({{"user", "hi all", ""}, {"user", "hey", "ben"}, {"assistant", "yo", ""}}),
            "ana: hi all\nben: hey\nbot: yo\nbot: ");
  EXPECT_EQ(lines.end_of_message(), "\n");
}

TEST(ChatTemplate, AutoFollowsTheRunsAuthorPrefix) {
  config::Config config;
  config.chat.user_name = "ROMEO";
  config.chat.assistant_name = "JULIET";
  EXPECT_EQ(ChatTemplate::from_config(config).kind(), ChatTemplateKind::blocks);
  EXPECT_EQ(ChatTemplate::from_config(config).prompt({{"user", "Lady!", ""}}),
            "ROMEO:\nLady!\n\nJULIET:\n");
  config.prepare.author_prefix = true;
  EXPECT_EQ(ChatTemplate::from_config(config).kind(), ChatTemplateKind::lines);
  config.chat.template_kind = ChatTemplateKind::blocks;
  EXPECT_EQ(ChatTemplate::from_config(config).kind(), ChatTemplateKind::blocks);
}

TEST(ChatTemplate, EmptyNamesWriteNoSpeaker) {
  const ChatTemplate unnamed(ChatTemplateKind::lines, "", "");
  EXPECT_EQ(unnamed.prompt({{"user", "hi all", ""}, {"assistant", "yo", ""}, {"user", "hey", ""}}),
            "hi all\nyo\nhey\n");
}

TEST(ChatTemplate, NamesMustBeOneLine) {
  EXPECT_THROW(ChatTemplate(ChatTemplateKind::lines, "a\nb", "bot"), UsageError);
  EXPECT_THROW(ChatTemplate(ChatTemplateKind::automatic, "a", "b"), UsageError);
  try {
    kBlocks.prompt({{"user", "x", "two\nlines"}});
    FAIL() << "a name with a line break was taken";
  } catch (const BadRequest& e) {
    EXPECT_STREQ(e.what(), "messages[0].name must be on one line, got \"two\nlines\"");
    EXPECT_EQ(e.param(), "messages[0].name");
  }
}

}  // namespace
}  // namespace loom::serve
