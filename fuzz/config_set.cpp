// `--set SECTION.KEY=VALUE` overrides: each line of the input is one
// argument, applied on top of a small valid config. As for config_yaml, a
// result that loads must print and load back to the same config.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"

namespace {

constexpr std::string_view kBaseConfig =
    "run:\n  name: fuzz\n"
    "data:\n  store: data/fuzz.h5\n"
    "model:\n  block_size: 64\n  n_layer: 2\n  n_head: 2\n  n_embd: 32\n";

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> overrides =
      lines_of(std::string_view(reinterpret_cast<const char*>(data), size));
  loom::fuzz::expect_loom_errors_only([&] {
    const loom::config::Config config =
        loom::config::load_config_text(kBaseConfig, "base.yaml", overrides);
    const std::string printed = loom::config::to_yaml(config);
    const loom::config::Config again = loom::config::load_config_text(printed, "printed.yaml");
    loom::fuzz::check(loom::config::to_yaml(again) == printed,
                      "a config with --set overrides printed and loaded again differs");
  });
  return 0;
}
