// `loom config show|check|defaults`: look at a config before spending
// compute on it.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/config/config.hpp"
#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"

namespace loom::cli {
namespace {

struct ConfigArgs {
  std::string file;
  std::vector<std::string> overrides;
  bool documented = false;
};

void add_file_and_overrides(CLI::App& command, ConfigArgs& args) {
  command.add_option("file", args.file, "YAML run config")->required();
  command
      .add_option("--set", args.overrides,
                  "override one key, e.g. --set optim.lr=3e-4 (repeatable; checked like the "
                  "file)")
      ->type_name("SECTION.KEY=VALUE")
      ->allow_extra_args(false);
}

ExitCode show(const ConfigArgs& args) {
  const config::Config config = config::load_config_file(args.file, args.overrides);
  std::string header = "# resolved from " + args.file;
  for (const std::string& override : args.overrides)
    header += " --set " + override;
  std::cout << header << "\n"
            << config::to_yaml(config, args.documented ? config::DumpStyle::documented
                                                       : config::DumpStyle::plain);
  return ExitCode::kOk;
}

ExitCode check(const ConfigArgs& args) {
  config::load_config_file(args.file, args.overrides);
  std::cout << args.file << ": ok\n";
  return ExitCode::kOk;
}

ExitCode defaults() {
  std::cout << "# Loom's config keys with their defaults, meaning and accepted values.\n"
            << config::to_yaml(config::Config{}, config::DumpStyle::documented);
  return ExitCode::kOk;
}

}  // namespace

void add_config_command(CLI::App& app, Command& selected) {
  CLI::App* config = app.add_subcommand("config", "inspect and check run configs");
  config->require_subcommand(1);
  auto args = std::make_shared<ConfigArgs>();

  CLI::App* show_command =
      config->add_subcommand("show", "print the resolved config: file, defaults and overrides");
  add_file_and_overrides(*show_command, *args);
  show_command->add_flag("--docs", args->documented, "annotate each key with its meaning");
  show_command->callback([&selected, args] { selected = [args] { return show(*args); }; });

  CLI::App* check_command =
      config->add_subcommand("check", "validate a config; exit code 2 with every problem listed");
  add_file_and_overrides(*check_command, *args);
  check_command->callback([&selected, args] { selected = [args] { return check(*args); }; });

  CLI::App* defaults_command =
      config->add_subcommand("defaults", "print every key with its default and meaning");
  defaults_command->callback([&selected] { selected = [] { return defaults(); }; });
}

}  // namespace loom::cli
