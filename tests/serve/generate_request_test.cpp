// POST /v1/generate bodies: every field read into the completion options,
// the defaults, and each kind of bad request refused with a message that
// names the field, the value and what was expected.
#include "loom/serve/generate_request.hpp"

#include <string>

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace loom::serve {
namespace {

using namespace loom::test;

constexpr std::uint64_t kDrawnSeed = 99;

GenerateRequest parse(const std::string& body, const ServeLimits& limits = {}) {
  return parse_generate_request(body, limits, kDrawnSeed);
}

std::string refusal(const std::string& body, const ServeLimits& limits = {}) {
  return error_message<BadRequest>([&] { parse(body, limits); });
}

TEST(GenerateRequest, AnEmptyObjectGetsTheDefaultsAndTheDrawnSeed) {
  const GenerateRequest request = parse("{}");
  EXPECT_EQ(request.prompt, "");
  EXPECT_FALSE(request.stream);
  EXPECT_TRUE(request.options.stop.empty());
  const infer::SamplingOptions& sampling = request.options.sampling;
  EXPECT_EQ(sampling.max_new_tokens, kDefaultMaxTokens);
  EXPECT_EQ(sampling.temperature, 1.0);
  EXPECT_EQ(sampling.top_k, 0);
  EXPECT_EQ(sampling.top_p, 1.0);
  EXPECT_EQ(sampling.repetition_penalty, 1.0);
  EXPECT_EQ(sampling.seed, kDrawnSeed);
  EXPECT_TRUE(sampling.stop_at_eos);
  EXPECT_TRUE(sampling.use_kv_cache);
}

TEST(GenerateRequest, ReadsEveryField) {
  const GenerateRequest request = parse(R"({"prompt": "ROMEO:\n", "max_tokens": 17,
      "temperature": 0.5, "top_k": 40, "top_p": 0.9, "repetition_penalty": 1.3,
      "stop": ["\n\n", "END"], "stop_at_eos": false, "seed": 18446744073709551615,
      "stream": true})");
  EXPECT_EQ(request.prompt, "ROMEO:\n");
  EXPECT_TRUE(request.stream);
  EXPECT_EQ(request.options.stop, (std::vector<std::string>{"\n\n", "END"}));
  const infer::SamplingOptions& sampling = request.options.sampling;
  EXPECT_EQ(sampling.max_new_tokens, 17);
  EXPECT_EQ(sampling.temperature, 0.5);
  EXPECT_EQ(sampling.top_k, 40);
  EXPECT_EQ(sampling.top_p, 0.9);
  EXPECT_EQ(sampling.repetition_penalty, 1.3);
  EXPECT_EQ(sampling.seed, 18446744073709551615ULL);
  EXPECT_FALSE(sampling.stop_at_eos);
}

TEST(GenerateRequest, OneStopStringMayBeGivenWithoutAList) {
  EXPECT_EQ(parse(R"({"stop": "\n"})").options.stop, (std::vector<std::string>{"\n"}));
}

TEST(GenerateRequest, IntegersWrittenAsWholeNumbersAreTakenForNumbers) {
  EXPECT_EQ(parse(R"({"temperature": 0, "top_p": 1})").options.sampling.temperature, 0.0);
}

TEST(GenerateRequest, BadJsonSaysWhere) {
  EXPECT_EQ(refusal(R"({"prompt": "a",})"),
            "the body is not valid JSON: parse error at line 1, column 16: syntax error while "
            "parsing object key - unexpected '}'; expected string literal");
  EXPECT_EQ(refusal(""),
            "the body is not valid JSON: parse error at line 1, column 1: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

// nlohmann reports a number beyond a double as out_of_range, not as a
// parse error; found by fuzz/generate_request.
TEST(GenerateRequest, NumberTooLargeIsBadJson) {
  EXPECT_EQ(refusal(R"({"temperature": 1e400})"),
            "the body is not valid JSON: number overflow parsing '1e400'");
}

TEST(GenerateRequest, TheBodyMustBeAnObject) {
  EXPECT_EQ(refusal(R"(["prompt"])"), "the body must be a JSON object, got array");
}

TEST(GenerateRequest, AWrongTypeNamesTheFieldAndTheValue) {
  EXPECT_EQ(refusal(R"({"temperature": "hot"})"),
            "'temperature' must be a number, got string \"hot\"");
  EXPECT_EQ(refusal(R"({"max_tokens": 2.5})"), "'max_tokens' must be an integer, got number 2.5");
  EXPECT_EQ(refusal(R"({"prompt": 7})"), "'prompt' must be a string, got number 7");
  EXPECT_EQ(refusal(R"({"stream": "yes"})"), "'stream' must be true or false, got string \"yes\"");
  EXPECT_EQ(refusal(R"({"seed": -1})"),
            "'seed' must be an integer from 0 to 2^64-1, got number -1");
  EXPECT_EQ(refusal(R"({"stop": ["a", 1]})"),
            "'stop' must be a string or a list of strings, got array [\"a\",1]");
}

TEST(GenerateRequest, AnUnknownFieldGetsTheNearestKnownOne) {
  EXPECT_EQ(refusal(R"({"temprature": 1})"),
            "unknown field 'temprature'; did you mean 'temperature'?");
  EXPECT_EQ(refusal(R"({"n": 2})"),
            "unknown field 'n'; the fields are prompt, max_tokens, temperature, top_k, top_p, "
            "repetition_penalty, stop, stop_at_eos, seed, stream");
}

TEST(GenerateRequest, ValuesOutsideTheirRangeAreRefused) {
  EXPECT_EQ(refusal(R"({"temperature": -1})"), "temperature must be >= 0, got -1");
  EXPECT_EQ(refusal(R"({"top_p": 0})"), "top_p must be in (0, 1], got 0");
  EXPECT_EQ(refusal(R"({"top_k": -3})"), "top_k must be >= 0, got -3");
  EXPECT_EQ(refusal(R"({"repetition_penalty": 0})"),
            "repetition_penalty must be finite and > 0, got 0");
  EXPECT_EQ(refusal(R"({"stop": ["a", ""]})"), "'stop' string 1 is empty");
}

TEST(GenerateRequest, TheServersLimitsHold) {
  ServeLimits limits;
  limits.max_tokens = 100;
  limits.max_stop_strings = 2;
  EXPECT_EQ(parse(R"({"max_tokens": 100})", limits).options.sampling.max_new_tokens, 100);
  EXPECT_EQ(refusal(R"({"max_tokens": 101})", limits),
            "'max_tokens' must be from 0 to 100 (the server's limit), got 101");
  EXPECT_EQ(refusal(R"({"max_tokens": -1})", limits),
            "'max_tokens' must be from 0 to 100 (the server's limit), got -1");
  EXPECT_EQ(refusal(R"({"stop": ["a", "b", "c"]})", limits),
            "'stop' holds 3 strings; the server takes at most 2");
}

}  // namespace
}  // namespace loom::serve
