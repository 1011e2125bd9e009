// What the server's tests share: a GenerationServer on a real loopback
// socket with an untrained tiny GPT, an HTTP client for it, and a reader of
// text/event-stream bodies.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "infer/generation_test_support.hpp"
#include "test_support.hpp"
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "loom/infer/text_completion.hpp"
#include "loom/serve/generation_server.hpp"

namespace loom::serve {

using namespace loom::test;
using nlohmann::json;
using namespace std::chrono_literals;

struct Event {
  std::string name;  // "message" when the event has none
  json data;
};

// Splits a text/event-stream body into its events.
inline std::vector<Event> parse_events(const std::string& body) {
  std::vector<Event> events;
  std::size_t start = 0;
  for (std::size_t end; (end = body.find("\n\n", start)) != std::string::npos; start = end + 2) {
    Event event{"message", nullptr};
    std::size_t line_start = start;
    while (line_start < end) {
      std::size_t line_end = body.find('\n', line_start);
      if (line_end == std::string::npos || line_end > end) line_end = end;
      const std::string line = body.substr(line_start, line_end - line_start);
      if (line.rfind("event: ", 0) == 0) event.name = line.substr(7);
      if (line.rfind("data: ", 0) == 0) {
        const std::string data = line.substr(6);
        // OpenAI's streams end with "data: [DONE]", which is no JSON.
        event.data = data == "[DONE]" ? json(data) : json::parse(data);
      }
      line_start = line_end + 1;
    }
    events.push_back(event);
  }
  EXPECT_EQ(start, body.size()) << "an unfinished event at the end";
  return events;
}

class GenerationServerTest : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }

  void start(const ServeLimits& limits = {}, bool byte_tokenizer = false,
             const std::string& api_key = {}) {
    if (byte_tokenizer) {
      tokenizer_ = text::make_byte_tokenizer();
    } else {
      tokenizer_ = char_tokenizer("abcdefgh ij\n");
    }
    model_ = untrained_gpt(*tokenizer_);
    ServedModel served{model_, tokenizer_, {{"name", "tiny"}, {"step", 12}}, std::nullopt};
    served.id = "tiny";
    server_ = std::make_shared<GenerationServer>(served, limits, api_key);
    port_ = server_->bind("127.0.0.1", 0);
    std::packaged_task<void()> serve([server = server_] { server->serve(); });
    served_ = serve.get_future();
    std::thread(std::move(serve)).detach();
  }

  // Stops the server; fails the test, instead of hanging it, when serve()
  // does not return within 10 s (the serving thread then keeps the server).
  void stop() {
    if (!server_) return;
    server_->stop();
    EXPECT_EQ(served_.wait_for(10s), std::future_status::ready)
        << "serve() did not return within 10 s of stop()";
    server_.reset();
  }

  httplib::Client client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(120, 0);
    return client;
  }

  httplib::Result post(const json& body) const {
    return client().Post("/v1/generate", body.dump(), "application/json");
  }

  // What generating in-process gives for the same request.
  infer::Completion direct(const std::string& prompt, const json& body) const {
    const GenerateRequest request = parse_generate_request(body.dump(), ServeLimits{}, 0);
    return infer::complete_batch(*model_, *tokenizer_, {prompt}, request.options).front();
  }

  int running() const {
    const httplib::Result health = client().Get("/v1/health");
    EXPECT_TRUE(health);
    return health ? json::parse(health->body)["generations_running"].get<int>() : -1;
  }

  // Waits until `count` generations are running; false after 30 s.
  bool wait_for_running(int count) const {
    return poll_until([&] { return running() == count; }, 30s);
  }

  static void expect_error(const httplib::Result& result, int status, const std::string& message) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status);
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(json::parse(result->body), json({{"error", message}}));
  }

  std::shared_ptr<const text::Tokenizer> tokenizer_;
  std::shared_ptr<model::LanguageModel> model_;
  std::shared_ptr<GenerationServer> server_;
  std::future<void> served_;  // ready once serve() has returned
  int port_ = 0;
};

}  // namespace loom::serve
