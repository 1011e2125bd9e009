// The YAML run config (`loom train run.yaml`): load_config_text on any text.
// Beyond refusing bad input with a ConfigError, a config that loads must
// survive its own printing: to_yaml in both styles loads back to a config
// that prints the same.
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"

namespace {

using loom::config::DumpStyle;

void check_round_trip(const loom::config::Config& config) {
  const std::string plain = loom::config::to_yaml(config, DumpStyle::plain);
  for (const DumpStyle style : {DumpStyle::plain, DumpStyle::documented}) {
    const std::string text = loom::config::to_yaml(config, style);
    const loom::config::Config again = loom::config::load_config_text(text, "printed.yaml");
    loom::fuzz::check(loom::config::to_yaml(again, DumpStyle::plain) == plain,
                      "a loaded config printed and loaded again differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  loom::fuzz::expect_loom_errors_only([&] {
    const loom::config::Config config = loom::config::load_config_text(yaml, "fuzz.yaml");
    check_round_trip(config);
  });
  return 0;
}
