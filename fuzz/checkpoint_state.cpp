// A checkpoint's state.json (step, best validation loss, loss-scaler state,
// ...), read by read_checkpoint_info on resume, `loom sample` and `loom
// eval`. The input is state.json in a checkpoint folder whose config.yaml
// and tokenizer.json are valid, so every failure is state.json's and must
// be a CheckpointError naming it.
#include <cmath>
#include <string>

#include "fuzz_support.hpp"

#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"
#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/run_dir/run_checkpoint.hpp"
#include "loom/text/tokenizer.hpp"

namespace {

const std::filesystem::path& checkpoint() {
  static const std::filesystem::path folder = [] {
    const std::filesystem::path made = loom::fuzz::temp_dir() / "step-00000500";
    std::filesystem::create_directories(made);
    const loom::config::Config config = loom::config::load_config_text(
        "data:\n  store: data/fuzz.h5\nmodel:\n  block_size: 16\n  n_layer: 1\n  n_head: 1\n"
        "  n_embd: 8\n",
        "config.yaml");
    loom::fuzz::write_file(made / "config.yaml", loom::config::to_yaml(config));
    loom::fuzz::write_file(made / "tokenizer.json",
                           loom::text::make_byte_tokenizer()->to_json().dump() + "\n");
    return made;
  }();
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  loom::fuzz::write_file(checkpoint() / "state.json", data, size);
  loom::fuzz::expect_loom_errors_only([&] {
    try {
      const loom::run_dir::CheckpointInfo info = loom::run_dir::read_checkpoint_info(checkpoint());
      loom::fuzz::check(info.state.step >= 0, "a state.json with a negative step was read");
      loom::fuzz::check(info.vocab_size == 260, "the byte tokenizer's vocabulary changed");
    } catch (const loom::run_dir::CheckpointError& refused) {
      const std::string message = refused.what();
      loom::fuzz::check(message.find("state.json") != std::string::npos,
                        "a CheckpointError for a bad state.json that does not name the file");
    }
  });
  return 0;
}
