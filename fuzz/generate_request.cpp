// The server's request bodies (`loom serve`): each input goes to
// parse_generate_request (POST /v1/generate) and to the OpenAI parsers
// (POST /v1/completions, /v1/chat/completions). Bad bodies must be
// BadRequest (HTTP 400); one that parses must hold only what the server's
// limits allow.
#include "loom/serve/generate_request.hpp"

#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include <nlohmann/json.hpp>

#include "loom/serve/openai_request.hpp"

namespace {

constexpr std::uint64_t kDrawnSeed = 0x5eed;

loom::serve::ServeLimits fuzz_limits() {
  loom::serve::ServeLimits limits;
  limits.max_tokens = 512;
  limits.max_stop_strings = 4;
  limits.max_choices = 6;
  return limits;
}

// Runs `parse`; a request it returns goes to `check_request`.
template <class Parse, class Check>
void parse_and_check(const Parse& parse, const Check& check_request) {
  loom::fuzz::expect_loom_errors_only([&] {
    try {
      check_request(parse());
    } catch (const loom::serve::BadRequest& refused) {
      loom::fuzz::check(refused.what()[0] != '\0', "a BadRequest with an empty message");
    } catch (const loom::Error& other) {
      // Any other error would be a 500 for a client's mistake, not a 400.
      loom::fuzz::check(false,
                        std::string("a loom::Error that is not BadRequest: ") + other.what());
    }
  });
}

void check_options(const loom::infer::CompletionOptions& options, std::string_view body,
                   std::size_t extra_stop_strings) {
  const loom::serve::ServeLimits limits = fuzz_limits();
  const loom::infer::SamplingOptions& sampling = options.sampling;
  loom::fuzz::check(sampling.max_new_tokens >= 0 && sampling.max_new_tokens <= limits.max_tokens,
                    "a request's max_tokens passed beyond the server's limit");
  loom::fuzz::check(options.stop.size() <= limits.max_stop_strings + extra_stop_strings,
                    "a request passed with more stop strings than the limit");
  for (const std::string& stop : options.stop)
    loom::fuzz::check(!stop.empty(), "a request passed with an empty stop string");
  const nlohmann::json parsed = nlohmann::json::parse(body);
  if (!parsed.contains("seed") || parsed["seed"].is_null()) {
    loom::fuzz::check(sampling.seed == kDrawnSeed, "a request without a seed got another seed");
  }
}

void check_openai(const loom::serve::OpenAiRequest& request, std::string_view body,
                  std::size_t extra_stop_strings) {
  check_options(request.options, body, extra_stop_strings);
  loom::fuzz::check(request.n >= 1, "a request passed with n below 1");
  loom::fuzz::check(!request.prompts.empty(), "a request passed without a prompt");
  loom::fuzz::check(
      static_cast<std::int64_t>(request.prompts.size()) * request.n <= fuzz_limits().max_choices,
      "a request passed asking for more texts than the limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const loom::serve::ServeLimits limits = fuzz_limits();
  parse_and_check([&] { return loom::serve::parse_generate_request(body, limits, kDrawnSeed); },
                  [&](const loom::serve::GenerateRequest& request) {
                    check_options(request.options, body, 0);
                  });
  parse_and_check(
      [&] { return loom::serve::parse_completions_request(body, limits, kDrawnSeed); },
      [&](const loom::serve::OpenAiRequest& request) { check_openai(request, body, 0); });
  const loom::serve::ChatTemplate chat(loom::config::ChatTemplateKind::lines, "user", "bot");
  parse_and_check(
      // The chat's answer also stops at the end of its message.
      [&] { return loom::serve::parse_chat_request(body, limits, kDrawnSeed, chat); },
      [&](const loom::serve::OpenAiRequest& request) { check_openai(request, body, 1); });
  return 0;
}
