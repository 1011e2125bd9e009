// `POST /v1/generate` bodies (`loom serve`): parse_generate_request on any
// bytes. Bad bodies must be BadRequest (HTTP 400); one that parses must
// hold only what the server's limits allow.
#include "loom/serve/generate_request.hpp"

#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  loom::serve::ServeLimits limits;
  limits.max_tokens = 512;
  limits.max_stop_strings = 4;
  constexpr std::uint64_t kDrawnSeed = 0x5eed;
  loom::fuzz::expect_loom_errors_only([&] {
    loom::serve::GenerateRequest request;
    try {
      request = loom::serve::parse_generate_request(body, limits, kDrawnSeed);
    } catch (const loom::serve::BadRequest& refused) {
      loom::fuzz::check(refused.what()[0] != '\0', "a BadRequest with an empty message");
      return;
    } catch (const loom::Error& other) {
      // Any other error would be a 500 for a client's mistake, not a 400.
      loom::fuzz::check(false,
                        std::string("a loom::Error that is not BadRequest: ") + other.what());
    }
    const loom::infer::SamplingOptions& sampling = request.options.sampling;
    loom::fuzz::check(sampling.max_new_tokens >= 0 && sampling.max_new_tokens <= limits.max_tokens,
                      "a request's max_tokens passed beyond the server's limit");
    loom::fuzz::check(request.options.stop.size() <= limits.max_stop_strings,
                      "a request passed with more stop strings than the limit");
    for (const std::string& stop : request.options.stop)
      loom::fuzz::check(!stop.empty(), "a request passed with an empty stop string");
    if (!nlohmann::json::parse(body).contains("seed")) {
      loom::fuzz::check(sampling.seed == kDrawnSeed, "a request without a seed got another seed");
    }
  });
  return 0;
}
