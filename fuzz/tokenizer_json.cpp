// Tokenizer JSON (tokenizer.json in a checkpoint or an export, the token
// store's tokenizer attribute): tokenizer_from_json on any JSON. A
// tokenizer it builds must print (to_json) JSON that builds the same
// tokenizer again, and must encode, decode and show every id without
// failing. (Not the bpe and unigram kinds: see sentencepiece_kinds.hpp.)
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sentencepiece_kinds.hpp"
#include <nlohmann/json.hpp>

#include "loom/text/tokenizer.hpp"

namespace {

using loom::text::TokenId;

void exercise(const loom::text::Tokenizer& tokenizer) {
  const std::uint32_t vocab = tokenizer.vocab_size();
  loom::fuzz::check(vocab >= loom::text::kNumSpecialTokens, "a vocabulary without the specials");
  std::vector<TokenId> ids;
  tokenizer.encode("ROMEO: But, soft! what light through yonder window breaks?\n\xff\xc3", ids);
  for (const TokenId id : ids)
    loom::fuzz::check(id < vocab, "encode gave an id >= vocab_size");
  tokenizer.decode(ids);
  // Every id of a small vocabulary, the edges of a large one.
  std::vector<TokenId> shown;
  for (TokenId id = 0; id < vocab && id < 512; ++id)
    shown.push_back(id);
  if (vocab > 512) shown.push_back(vocab - 1);
  for (const TokenId id : shown)
    tokenizer.piece(id);
  tokenizer.decode(shown, /*skip_special=*/true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json json = nlohmann::json::parse(data, data + size, nullptr, false);
  if (json.is_discarded()) return 0;  // not JSON: the callers' JSON parse refuses it first
  if (loom::fuzz::names_sentencepiece_kind(json)) return 0;
  loom::fuzz::expect_loom_errors_only([&] {
    const auto tokenizer = loom::text::tokenizer_from_json(json);
    const nlohmann::json printed = tokenizer->to_json();
    const auto again = loom::text::tokenizer_from_json(printed);
    loom::fuzz::check(again->to_json() == printed,
                      "a tokenizer's JSON does not rebuild the same tokenizer");
    loom::fuzz::check(
        again->kind() == tokenizer->kind() && again->vocab_size() == tokenizer->vocab_size(),
        "a tokenizer rebuilt from its JSON has another kind or size");
    exercise(*tokenizer);
  });
  return 0;
}
