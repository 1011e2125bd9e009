#include "consistency.hpp"

#include <cstdint>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/config/fields.hpp"

namespace loom::config {

void check_consistency(const Config& c, const WhereSet& where_set,
                       std::vector<ConfigIssue>& issues) {
  // Reported at `path`, the key a user would most likely change; `other`,
  // the key it disagrees with, is located too when it was set elsewhere.
  auto require = [&](bool ok, const std::string& path, const std::string& message,
                     const std::string& other) {
    if (ok) return;
    const Location here = where_set(path);
    const Location there = where_set(other);
    std::string text = path + ": " + message;
    if (there.origin != here.origin || (here.line == 0 && there.line != 0)) {
      text += fmt::format(" ({} is set at {})", other, there.to_string());
    }
    issues.push_back({here, text});
  };

  if (c.model.arch == ModelArch::gpt) {
    require(c.model.n_embd % c.model.n_head == 0, "model.n_embd",
            fmt::format("{} is not divisible by model.n_head = {}", c.model.n_embd, c.model.n_head),
            "model.n_head");
    if (c.model.positions == Positions::rope && c.model.n_embd % c.model.n_head == 0) {
      const std::int64_t head_width = c.model.n_embd / c.model.n_head;
      require(head_width % 2 == 0, "model.positions",
              fmt::format("rope turns pairs of channels, and the head width n_embd / n_head = {} "
                          "is odd",
                          head_width),
              "model.n_head");
    }
    require(c.model.mlp != MlpKind::swiglu || c.model.activation == Activation::gelu,
            "model.activation",
            "relu applies to mlp: standard; mlp: swiglu gates with SiLU (leave activation at "
            "gelu)",
            "model.mlp");
  }
  require(
      c.optim.min_lr <= c.optim.lr, "optim.min_lr",
      fmt::format("{} is above optim.lr = {}", value_text(c.optim.min_lr), value_text(c.optim.lr)),
      "optim.lr");
  const std::int64_t decay_end =
      c.optim.lr_decay_iters > 0 ? c.optim.lr_decay_iters : c.train.max_iters;
  require(
      c.optim.warmup_iters <= decay_end, "optim.warmup_iters",
      fmt::format("{} is past the end of the decay at step {}", c.optim.warmup_iters, decay_end),
      c.optim.lr_decay_iters > 0 ? "optim.lr_decay_iters" : "train.max_iters");
  // A char vocabulary holds the 4 special tokens (text::kNumSpecialTokens:
  // <pad> <unk> <bos> <eos>) before any character, so a cap needs one more.
  constexpr std::int64_t kSpecialTokens = 4;
  if (c.prepare.max_vocab != 0 && c.prepare.max_vocab <= kSpecialTokens) {
    issues.push_back({where_set("prepare.max_vocab"),
                      fmt::format("prepare.max_vocab: {} leaves no room beyond the {} special "
                                  "tokens; use 0 (no cap) or at least {}",
                                  c.prepare.max_vocab, kSpecialTokens, kSpecialTokens + 1)});
  }
  for (const std::string& name : c.train.stop_signals) {
    if (!is_stop_signal_name(name)) {
      issues.push_back(
          {where_set("train.stop_signals"), fmt::format("train.stop_signals: '{}' is not one of {}",
                                                        name, fmt::join(kStopSignalNames, ", "))});
    }
  }
  if (c.train.micro_batch > 0) {
    require(c.train.batch_size % c.train.micro_batch == 0, "train.micro_batch",
            fmt::format("{} does not divide train.batch_size = {}", c.train.micro_batch,
                        c.train.batch_size),
            "train.batch_size");
  }
}

}  // namespace loom::config
