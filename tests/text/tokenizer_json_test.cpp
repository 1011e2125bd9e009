// Saving and rebuilding tokenizers: every kind survives JSON (as text, too)
// with identical encodings, and tokenizer_from_json names what is wrong
// with a bad file.
#include <string>
#include <vector>

#include "text_fixtures.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::text {
namespace {

using namespace loom::test;

using nlohmann::json;

std::string from_json_error(const json& saved) {
  try {
    tokenizer_from_json(saved);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

json small_char_json() {
  CharVocabBuilder builder;
  builder.add("ab\n");
  return builder.build({})->to_json();
}

TEST(TokenizerJson, EveryKindRoundTripsWithIdenticalEncodings) {
  const std::string text = joined(generated_lines(20)) + kMixedText + "\xE4\xB8!~\u0416";
  for (const Tokenizer* tokenizer : every_kind()) {
    SCOPED_TRACE(tokenizer->kind());
    const json saved = tokenizer->to_json();
    const auto rebuilt = tokenizer_from_json(json::parse(saved.dump()));
    EXPECT_EQ(rebuilt->kind(), tokenizer->kind());
    EXPECT_EQ(rebuilt->vocab_size(), tokenizer->vocab_size());
    EXPECT_EQ(rebuilt->to_json(), saved);
    EncodeStats original_stats;
    EncodeStats rebuilt_stats;
    const std::vector<TokenId> ids = encode(*tokenizer, text, &original_stats);
    EXPECT_EQ(encode(*rebuilt, text, &rebuilt_stats), ids);
    EXPECT_EQ(rebuilt_stats.characters, original_stats.characters);
    EXPECT_EQ(rebuilt_stats.unknown, original_stats.unknown);
    EXPECT_EQ(rebuilt_stats.invalid_utf8, original_stats.invalid_utf8);
    EXPECT_EQ(rebuilt->decode(ids), tokenizer->decode(ids));
  }
}

TEST(TokenizerJson, CharVocabularyIsReadableInTheFile) {
  EXPECT_EQ(small_char_json(), json::parse(R"({"kind": "char", "vocab_size": 7,
      "specials": ["<pad>", "<unk>", "<bos>", "<eos>"], "chars": ["\n", "a", "b"]})"));
  EXPECT_EQ(make_byte_tokenizer()->to_json(), json::parse(R"({"kind": "byte", "vocab_size": 260,
      "specials": ["<pad>", "<unk>", "<bos>", "<eos>"]})"));
}

TEST(TokenizerJson, CharIdsFollowTheFileNotCodePointOrder) {
  json saved = small_char_json();
  saved["chars"] = {"b", "\U0001F339", "a"};
  const auto tokenizer = tokenizer_from_json(saved);
  EXPECT_EQ(encode(*tokenizer, "ab\U0001F339"), (std::vector<TokenId>{6, 4, 5}));
}

TEST(TokenizerJson, RejectsWhatIsNotATokenizer) {
  EXPECT_EQ(from_json_error(json::array()), "tokenizer JSON: expected an object, got array");
  EXPECT_EQ(from_json_error(json::object()), "tokenizer JSON: missing field 'kind'");
  EXPECT_EQ(from_json_error({{"kind", 3}}), "tokenizer JSON: field 'kind' must be a string, got 3");
  EXPECT_EQ(from_json_error({{"kind", "word"}}),
            "tokenizer JSON: unknown kind 'word', expected one of char, byte, bpe, unigram");
}

TEST(TokenizerJson, RejectsWrongSpecialTokens) {
  json saved = make_byte_tokenizer()->to_json();
  saved["specials"] = {"<pad>", "<unk>", "<s>", "</s>"};
  EXPECT_EQ(from_json_error(saved),
            R"(tokenizer JSON: field 'specials' must be ["<pad>","<unk>","<bos>","<eos>"], )"
            R"(got ["<pad>","<unk>","<s>","</s>"])");
  saved["specials"] = json::object();
  EXPECT_EQ(from_json_error(saved),
            "tokenizer JSON: field 'specials' must be an array, got object");
  saved.erase("specials");
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: missing field 'specials'");
}

TEST(TokenizerJson, RejectsAVocabSizeThatDisagrees) {
  json saved = small_char_json();
  saved["vocab_size"] = 8;
  EXPECT_EQ(from_json_error(saved),
            "tokenizer JSON: field 'vocab_size' is 8 but the char vocabulary has 7 ids");
  saved["vocab_size"] = -7;
  EXPECT_EQ(from_json_error(saved),
            "tokenizer JSON: field 'vocab_size' must be a non-negative integer, got -7");
  saved = make_byte_tokenizer()->to_json();
  saved["vocab_size"] = 256;
  EXPECT_EQ(from_json_error(saved),
            "tokenizer JSON: field 'vocab_size' is 256 but the byte vocabulary has 260 ids");
}

TEST(TokenizerJson, RejectsBadCharEntries) {
  json saved = small_char_json();
  saved.erase("chars");
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: missing field 'chars'");
  saved["chars"] = "ab";
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: field 'chars' must be an array, got \"ab\"");
  saved["chars"] = {"a", "b", "a"};
  EXPECT_EQ(from_json_error(saved), R"(tokenizer JSON: chars[2] "a" repeats chars[0])");
  saved["chars"] = {"a", "bc"};
  EXPECT_EQ(from_json_error(saved),
            R"(tokenizer JSON: chars[1] must be a string of one character, got "bc")");
  saved["chars"] = {"", "b"};
  EXPECT_EQ(from_json_error(saved),
            R"(tokenizer JSON: chars[0] must be a string of one character, got "")");
  saved["chars"] = {"a", 98};
  EXPECT_EQ(from_json_error(saved),
            "tokenizer JSON: chars[1] must be a string of one character, got 98");
  saved["chars"] = {std::string("\xED\xA0\x80")};
  EXPECT_EQ(
      from_json_error(saved),
      "tokenizer JSON: chars[0] must be a string of one character, got \"\uFFFD\uFFFD\uFFFD\"");
}

TEST(TokenizerJson, RejectsABrokenSentencePieceModel) {
  json saved = trained("bpe", 360, true).to_json();
  saved["model"] = "not base64!";
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: field 'model' is not valid base64");
  saved["model"] = "QUJD=";
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: field 'model' is not valid base64");
  saved["model"] = "QUJDRA==";  // "ABCD"
  const std::string message = from_json_error(saved);
  EXPECT_EQ(message.rfind("tokenizer JSON: SentencePiece cannot load the model: ", 0), 0u)
      << message;
  saved.erase("model");
  EXPECT_EQ(from_json_error(saved), "tokenizer JSON: missing field 'model'");
}

}  // namespace
}  // namespace loom::text
