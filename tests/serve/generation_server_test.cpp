// The HTTP server on real sockets, in-process, with an untrained tiny GPT:
// replies equal infer::complete_batch() for the same options, streamed
// events join up to the same text (valid UTF-8 even from a byte
// tokenizer), bad requests get 4xx with messages and the server goes on,
// the concurrency cap answers 503, and a client that stops reading holds
// up neither other clients nor, once it hangs up, a generation slot.
#include "loom/serve/generation_server.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.hpp"
#include "test_support.hpp"
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "loom/infer/text_completion.hpp"
#include "loom/text/utf8.hpp"

namespace loom::serve {
namespace {

using namespace loom::test;

using nlohmann::json;
using namespace std::chrono_literals;

// A client that sends a request on a plain socket and then reads nothing.
class SilentClient {
 public:
  SilentClient(int port, const std::string& body) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int small_buffer = 4096;  // so the server's writes back up soon
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small_buffer, sizeof small_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    const std::string request =
        "POST /v1/generate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    EXPECT_EQ(send(fd_, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  }
  ~SilentClient() { hang_up(); }
  SilentClient(const SilentClient&) = delete;
  SilentClient& operator=(const SilentClient&) = delete;

  void hang_up() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

TEST_F(GenerationServerTest, TheModelEndpointDescribesTheModelAndTheLimits) {
  ServeLimits limits;
  limits.max_tokens = 300;
  start(limits);
  const httplib::Result result = client().Get("/v1/model");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  const json reply = json::parse(result->body);
  EXPECT_EQ(reply["name"], "tiny");
  EXPECT_EQ(reply["step"], 12);
  EXPECT_EQ(reply["vocab_size"], tokenizer_->vocab_size());
  EXPECT_EQ(reply["parameters"], model_->parameter_count());
  EXPECT_EQ(reply["tokenizer"], "char");
  EXPECT_EQ(reply["model"]["arch"], "gpt");
  EXPECT_EQ(reply["model"]["block_size"], 8);
  EXPECT_EQ(reply["model"]["n_layer"], model_->config().n_layer);
  EXPECT_EQ(reply["limits"]["max_tokens"], 300);
  EXPECT_EQ(reply["defaults"]["max_tokens"], kDefaultMaxTokens);
  EXPECT_EQ(reply["fields"], json(generate_request_fields()));
  EXPECT_EQ(reply["chat"],
            json({{"template", "blocks"}, {"user_name", "user"}, {"assistant_name", "assistant"}}));
}

TEST_F(GenerationServerTest, AReplyIsWhatGeneratingInProcessGives) {
  start();
  const json body = {{"prompt", "abc"},      {"max_tokens", 40},   {"seed", 5},
                     {"stop_at_eos", false}, {"temperature", 0.9}, {"top_k", 6}};
  const httplib::Result result = post(body);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const json reply = json::parse(result->body);
  const infer::Completion expected = direct("abc", body);
  EXPECT_EQ(reply["text"], expected.text);
  EXPECT_EQ(reply["tokens"], 40);
  EXPECT_EQ(reply["finish_reason"], "length");
  EXPECT_EQ(reply["prompt_tokens"], 3);
  EXPECT_EQ(reply["seed"], 5);
  EXPECT_GT(reply["seconds"].get<double>(), 0.0);
}

TEST_F(GenerationServerTest, WithoutASeedTheServerDrawsOneAndReportsIt) {
  start();
  const json body = {{"prompt", "ab"}, {"max_tokens", 30}, {"stop_at_eos", false}};
  const json first = json::parse(post(body)->body);
  const json second = json::parse(post(body)->body);
  EXPECT_NE(first["seed"], second["seed"]);
  EXPECT_LT(first["seed"].get<std::uint64_t>(), std::uint64_t{1} << 53);
  json again = body;
  again["seed"] = first["seed"];
  EXPECT_EQ(json::parse(post(again)->body)["text"], first["text"]);
}

TEST_F(GenerationServerTest, StreamedEventsJoinUpToTheReply) {
  start();
  json body = {
      {"prompt", "hi"}, {"max_tokens", 25}, {"seed", 8}, {"stop_at_eos", false}, {"stop", "j\n"}};
  const json reply = json::parse(post(body)->body);
  body["stream"] = true;
  const httplib::Result result = post(body);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<Event> events = parse_events(result->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front().name, "start");
  EXPECT_EQ(events.front().data, json({{"prompt_tokens", 2}, {"seed", 8}}));
  std::string text;
  for (std::size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].name, "message");
    text += events[i].data["text"].get<std::string>();
  }
  EXPECT_EQ(text, reply["text"]);
  const Event& done = events.back();
  EXPECT_EQ(done.name, "done");
  for (const char* field : {"finish_reason", "tokens", "prompt_tokens", "seed"})
    EXPECT_EQ(done.data[field], reply[field]) << field;
  EXPECT_FALSE(done.data.contains("text"));
}

TEST_F(GenerationServerTest, StreamedBytesArriveAsValidUtf8) {
  start({}, /*byte_tokenizer=*/true);
  // An untrained byte model draws bytes at random: mostly broken UTF-8.
  const json body = {{"prompt", "caf\xC3\xA9"},
                     {"max_tokens", 120},
                     {"seed", 2},
                     {"stop_at_eos", false},
                     {"stream", true}};
  const std::vector<Event> events = parse_events(post(body)->body);
  std::string text;
  for (const Event& event : events) {
    if (event.name != "message") continue;
    const std::string piece = event.data["text"];
    EXPECT_EQ(text::count_utf8(piece).invalid, 0u);
    text += piece;
  }
  const infer::Completion expected = direct("caf\xC3\xA9", body);
  EXPECT_GT(text::count_utf8(expected.text).invalid, 0u) << "the test needs broken UTF-8";
  EXPECT_EQ(text, text::replace_invalid_utf8(expected.text));
  EXPECT_EQ(events.back().name, "done");
}

TEST_F(GenerationServerTest, GenerationsAtOnceGiveWhatEachGivesAlone) {
  ServeLimits limits;
  limits.max_concurrent = 3;
  start(limits);
  const json body = {{"prompt", "a"}, {"max_tokens", 60}, {"seed", 11}, {"stop_at_eos", false}};
  const std::string expected = direct("a", body).text;
  std::vector<std::string> texts(3);
  std::vector<std::thread> clients;
  for (std::string& text : texts)
    clients.emplace_back([&] { text = json::parse(post(body)->body)["text"]; });
  for (std::thread& client : clients)
    client.join();
  for (const std::string& text : texts)
    EXPECT_EQ(text, expected);
}

TEST_F(GenerationServerTest, BadRequestsGetAMessageAndTheServerGoesOn) {
  ServeLimits limits;
  limits.max_body_bytes = 2048;
  limits.max_tokens = 100;
  start(limits);
  httplib::Client http = client();
  expect_error(http.Post("/v1/generate", "{\"prompt\": \"" + std::string(4000, 'a') + "\"}",
                         "application/json"),
               413, "the request body is over the server's limit of 2048 bytes");
  expect_error(http.Post("/v1/generate", "{\"prompt\": ", "application/json"), 400,
               "the body is not valid JSON: parse error at line 1, column 12: syntax error while "
               "parsing value - unexpected end of input; expected '[', '{', or a literal");
  expect_error(post({{"temperature", -0.5}}), 400, "temperature must be >= 0, got -0.5");
  expect_error(post({{"max_tokens", 101}}), 400,
               "'max_tokens' must be from 0 to 100 (the server's limit), got 101");
  expect_error(post({{"max_tokens", 10}, {"stream", true}, {"top_p", 2}}), 400,
               "top_p must be in (0, 1], got 2");
  // A path that is no endpoint gets OpenAI's error shape (openai_api_test.cpp):
  // OpenAI's clients are the ones that guess paths.
  const httplib::Result no_endpoint = http.Get("/v1/generat");
  ASSERT_TRUE(no_endpoint);
  EXPECT_EQ(no_endpoint->status, 404);
  EXPECT_EQ(json::parse(no_endpoint->body)["error"]["message"],
            "no such endpoint: GET /v1/generat; there are GET /, GET /v1/model, GET /v1/health, "
            "POST /v1/generate, GET /v1/models, POST /v1/completions and POST "
            "/v1/chat/completions");
  const httplib::Result after = post({{"max_tokens", 5}, {"stop_at_eos", false}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(json::parse(after->body)["tokens"], 5);
}

TEST_F(GenerationServerTest, PastTheConcurrencyCapRequestsAreRefusedUntilASlotFrees) {
  ServeLimits limits;
  limits.max_concurrent = 1;
  limits.max_tokens = 10'000'000;
  start(limits);
  SilentClient hog(
      port_, json({{"max_tokens", 10'000'000}, {"stop_at_eos", false}, {"stream", true}}).dump());
  ASSERT_TRUE(wait_for_running(1));
  const httplib::Result refused = post({{"max_tokens", 5}});
  expect_error(refused, 503,
               "busy: the server runs at most 1 generation at once; try again shortly");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  hog.hang_up();
  ASSERT_TRUE(wait_for_running(0)) << "the hung-up client's generation still runs";
  EXPECT_EQ(post({{"max_tokens", 5}})->status, 200);
}

TEST_F(GenerationServerTest, AClientThatReadsNothingStallsNoOtherClient) {
  ServeLimits limits;
  limits.max_tokens = 10'000'000;
  start(limits);
  SilentClient stalled(
      port_, json({{"max_tokens", 10'000'000}, {"stop_at_eos", false}, {"stream", true}}).dump());
  ASSERT_TRUE(wait_for_running(1));
  const auto begin = std::chrono::steady_clock::now();
  const httplib::Result other = post({{"prompt", "ab"}, {"max_tokens", 50}, {"seed", 1}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 20s);
  EXPECT_EQ(running(), 1) << "the stalled generation should still be running";
  EXPECT_EQ(client().Get("/")->status, 200);
  stalled.hang_up();
  EXPECT_TRUE(wait_for_running(0)) << "the hung-up client's generation still runs";
}

TEST_F(GenerationServerTest, ThePlaygroundPageIsServed) {
  start();
  const httplib::Result page = client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->body, playground_html());
  EXPECT_NE(page->body.find("<title>Loom playground</title>"), std::string::npos);
  EXPECT_NE(page->body.find("/v1/generate"), std::string::npos);
}

TEST_F(GenerationServerTest, StopEndsServeWhileServingAndEvenBeforeItStarts) {
  start();
  const int served_port = port_;
  stop();  // checks that serve() returned
  httplib::Client late("127.0.0.1", served_port);
  late.set_connection_timeout(5, 0);
  EXPECT_FALSE(late.Get("/v1/health")) << "the port still answers after stop()";

  // Stopped before serve() was called: serve() returns at once.
  auto idle = std::make_shared<GenerationServer>(ServedModel{model_, tokenizer_, {}, std::nullopt},
                                                 ServeLimits{});
  idle->bind("127.0.0.1", 0);
  idle->stop();
  EXPECT_TRUE(finishes_within(10s, [idle] { idle->serve(); }))
      << "serve() after stop() did not return";
}

}  // namespace
}  // namespace loom::serve
