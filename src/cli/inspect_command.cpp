// `loom inspect STORE.h5`: what a token store holds, and a decoded excerpt
// so a user can see the text came through as intended.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/data/token_store.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::cli {
namespace {

struct InspectArgs {
  std::string store;
  std::int64_t tokens = 200;
};

std::string excerpt(const data::SplitView& view, const text::Tokenizer& tokenizer,
                    std::int64_t count) {
  const std::uint64_t n = std::min<std::uint64_t>(view.size, static_cast<std::uint64_t>(count));
  std::vector<text::TokenId> ids(n);
  for (std::uint64_t i = 0; i < n; ++i)
    ids[i] = view.at(i);
  return tokenizer.decode(ids);
}

std::string plural(std::uint64_t count, const char* noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

// One of the counts prepare recorded beside its filters, as text; "?" when
// the store does not hold it as a number (the reader checks only that the
// attribute is a JSON object).
std::string filter_count(const nlohmann::json& filters, const char* key) {
  const auto counts = filters.find("counts");
  if (counts == filters.end() || !counts->is_object()) return "?";
  const auto count = counts->find(key);
  if (count == counts->end() || !count->is_number()) return "?";
  return count->dump();
}

// "none", or the filters that were on and what they removed.
std::string describe_filters(const std::string& filters_json) {
  const nlohmann::json filters = nlohmann::json::parse(filters_json);
  std::vector<std::string> enabled;
  for (const auto& [name, value] : filters.items()) {
    if (name == "counts") continue;
    if ((value.is_boolean() && value.get<bool>()) || (value.is_number() && value != 0)) {
      enabled.push_back(value.is_boolean() ? name : fmt::format("{}={}", name, value.dump()));
    }
  }
  if (enabled.empty()) return "none";
  return fmt::format("{}; kept {} of {} messages/lines", fmt::join(enabled, ", "),
                     filter_count(filters, "records_out"), filter_count(filters, "records_in"));
}

ExitCode run_inspect(const InspectArgs& args) {
  const data::TokenStoreReader store(args.store);
  const data::StoreMetadata& meta = store.metadata();
  const auto tokenizer = text::tokenizer_from_json(nlohmann::json::parse(meta.tokenizer_json));
  std::cout << fmt::format("{}: Loom token store, format {}, created {}\n", args.store,
                           meta.format_version, meta.created)
            << fmt::format("  tokenizer  {}, vocabulary {}, stored as {}\n", tokenizer->kind(),
                           meta.vocab_size, data::dtype_name(meta.dtype));
  for (const data::Split split : {data::Split::train, data::Split::val}) {
    const data::SplitView view = store.split(split);
    std::cout << fmt::format("  {:<10} {} in {}\n", data::split_name(split),
                             plural(view.size, "token"), plural(view.num_docs, "document"));
  }
  for (const data::SourceFile& source : meta.sources) {
    std::cout << fmt::format("  source     {} ({} bytes, crc32 {:08x})\n", source.name,
                             source.bytes, source.crc32);
  }
  std::cout << fmt::format("  cleaning   {}\n", describe_filters(meta.filters_json));
  for (const data::Split split : {data::Split::train, data::Split::val}) {
    std::cout << fmt::format("\n--- {}: first {} tokens, decoded ---\n", data::split_name(split),
                             args.tokens)
              << excerpt(store.split(split), *tokenizer, args.tokens) << "\n";
  }
  return ExitCode::kOk;
}

}  // namespace

void add_inspect_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* command =
      app.add_subcommand("inspect", "show a token store's metadata, sizes and a decoded excerpt");
  command->add_option("store", args->store, "token store (.h5)")->required();
  command->add_option("-n,--tokens", args->tokens, "tokens to decode from each split")
      ->check(CLI::NonNegativeNumber);
  command->callback([&selected, args] { selected = [args] { return run_inspect(*args); }; });
}

}  // namespace loom::cli
