// The token store reader on damaged .h5 files: the bytes are written to a
// store file and opened. A store that opens must keep the reader's
// promises: every view lies inside the mapped file (read here end to end,
// so ASan or a segfault catches one that does not), documents start at 0 and
// ascend below the token count, and tokens are below vocab_size (the reader
// checks samples; a store this small is sampled whole).
#include "loom/data/token_store.hpp"

#include "fuzz_support.hpp"
#include "sentencepiece_kinds.hpp"
#include <nlohmann/json.hpp>

namespace {

void check_split(const loom::data::SplitView& view, std::uint32_t vocab_size) {
  for (std::uint64_t i = 0; i < view.size; ++i) {
    loom::fuzz::check(view.at(i) < vocab_size, "an opened store holds a token >= vocab_size");
  }
  for (std::uint64_t doc = 0; doc < view.num_docs; ++doc) {
    const std::uint64_t start = view.doc_starts[doc];
    loom::fuzz::check(doc > 0 || start == 0, "an opened store's first document starts past 0");
    loom::fuzz::check(doc == 0 || start > view.doc_starts[doc - 1],
                      "an opened store's document starts do not ascend");
    loom::fuzz::check(start < view.size, "an opened store's document starts past its tokens");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = loom::fuzz::temp_dir() / "store.h5";
  loom::fuzz::write_file(path, data, size);
  loom::fuzz::expect_loom_errors_only([&] {
    const loom::data::TokenStoreReader reader(path.string());
    const loom::data::StoreMetadata& metadata = reader.metadata();
    for (const loom::data::Split split : {loom::data::Split::train, loom::data::Split::val}) {
      check_split(reader.split(split), metadata.vocab_size);
    }
    // The reader checked that the tokenizer attribute is JSON naming a kind
    // and the store's vocab_size; rebuilding it may still refuse, as a
    // loom::Error.
    const nlohmann::json tokenizer_json = nlohmann::json::parse(metadata.tokenizer_json);
    if (loom::fuzz::names_sentencepiece_kind(tokenizer_json)) return;
    const auto tokenizer = loom::text::tokenizer_from_json(tokenizer_json);
    loom::fuzz::check(tokenizer->vocab_size() == metadata.vocab_size,
                      "an opened store's tokenizer has another vocab_size than the store");
  });
  std::filesystem::remove(path);
  return 0;
}
