#include "loom/hardware/openblas_core.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>

namespace loom::hardware {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool same_core(std::string_view a, std::string_view b) {
  return lower(a) == lower(b);
}

// OpenBLAS's x86-64 core names (driver/others/dynamic.c), by tier.
struct TieredCore {
  const char* name;
  CoreTier tier;
};
constexpr TieredCore kCores[] = {
    {"katmai", CoreTier::sse},
    {"coppermine", CoreTier::sse},
    {"northwood", CoreTier::sse},
    {"prescott", CoreTier::sse},
    {"banias", CoreTier::sse},
    {"atom", CoreTier::sse},
    {"core2", CoreTier::sse},
    {"penryn", CoreTier::sse},
    {"dunnington", CoreTier::sse},
    {"nehalem", CoreTier::sse},
    {"athlon", CoreTier::sse},
    {"opteron", CoreTier::sse},
    {"opteron_sse3", CoreTier::sse},
    {"barcelona", CoreTier::sse},
    {"nano", CoreTier::sse},
    {"bobcat", CoreTier::sse},
    {"sandybridge", CoreTier::avx},
    {"bulldozer", CoreTier::avx},
    {"piledriver", CoreTier::avx},
    {"steamroller", CoreTier::avx},
    {"excavator", CoreTier::avx},
    {"haswell", CoreTier::avx2},
    {"zen", CoreTier::avx2},
    {"skylakex", CoreTier::avx512},
    {"cooperlake", CoreTier::avx512_bf16},
    {"sapphirerapids", CoreTier::avx512_bf16},
};

std::string_view reason_name(RejectedCore::Reason reason) {
  return reason == RejectedCore::Reason::wrong_product ? "wrong" : "unknown";
}

std::string_view reason_words(RejectedCore::Reason reason) {
  return reason == RejectedCore::Reason::wrong_product ? "computed a wrong check product"
                                                       : "is not a core this OpenBLAS knows";
}

bool was_rejected(const std::vector<RejectedCore>& rejected, std::string_view core) {
  return std::any_of(rejected.begin(), rejected.end(),
                     [&](const RejectedCore& r) { return same_core(r.core, core); });
}

CoreDecision go_on(CoreSource source, std::string message = "", bool warning = false) {
  CoreDecision decision;
  decision.source = source;
  decision.message = std::move(message);
  decision.warning = warning;
  return decision;
}

CoreDecision execute_with(std::optional<std::string> coretype, CoreEnvironment next) {
  CoreDecision decision;
  decision.execute_again = true;
  decision.coretype = std::move(coretype);
  decision.next = std::move(next);
  return decision;
}

CoreDecision keep_users_choice(const CoreFacts& facts) {
  const std::string& theirs = *facts.environment.coretype;
  std::string message;
  if (!same_core(theirs, facts.loaded_core)) {
    message =
        fmt::format("BLAS: OPENBLAS_CORETYPE={} (yours) is kept; OpenBLAS runs its {} kernels",
                    theirs, facts.loaded_core);
  }
  if (!facts.candidates.empty() &&
      openblas_core_tier(facts.candidates.front()) > openblas_core_tier(facts.loaded_core)) {
    if (message.empty()) {
      message = fmt::format("BLAS: OPENBLAS_CORETYPE={} (yours) is kept", theirs);
    }
    message += fmt::format(
        "; this CPU runs the faster {} kernels (unset OPENBLAS_CORETYPE to "
        "let Loom choose)",
        facts.candidates.front());
  }
  return go_on(CoreSource::user, std::move(message));
}

CoreDecision check_loom_choice(const CoreFacts& facts,
                               const std::function<bool()>& loaded_core_computes_correctly) {
  const CoreEnvironment& env = facts.environment;
  const std::string& chosen = *env.chosen_by_loom;
  const std::string detected = env.detected.value_or("unknown");
  std::optional<RejectedCore::Reason> failure;
  if (openblas_core_tier(facts.loaded_core) < openblas_core_tier(chosen)) {
    failure = RejectedCore::Reason::not_known;  // OpenBLAS fell back to Prescott
  } else if (!loaded_core_computes_correctly()) {
    failure = RejectedCore::Reason::wrong_product;
  }
  if (failure) {
    CoreEnvironment next;
    next.detected = env.detected;
    next.rejected = env.rejected;
    next.rejected.push_back({chosen, *failure});
    return execute_with(std::nullopt, std::move(next));
  }
  return go_on(CoreSource::loom,
               fmt::format("BLAS: OpenBLAS picked its generic {} kernels for this CPU; Loom runs "
                           "its {} kernels instead, checked against a reference product (set "
                           "OPENBLAS_CORETYPE to choose yourself)",
                           detected, facts.loaded_core));
}

}  // namespace

CoreTier openblas_core_tier(std::string_view core) {
  const std::string name = lower(core);
  for (const TieredCore& known : kCores) {
    if (name == known.name) return known.tier;
  }
  return CoreTier::unknown;
}

std::vector<std::string> openblas_cores_for(const CpuFeatures& cpu) {
  if (cpu.architecture != "x86_64") return {};
  std::vector<std::string> cores;
  if (cpu.avx512_core() && cpu.avx512_bf16) cores.emplace_back("Cooperlake");
  if (cpu.avx512_core()) cores.emplace_back("SkylakeX");
  if (cpu.avx2 && cpu.fma) cores.emplace_back("Haswell");
  if (cpu.avx) cores.emplace_back("Sandybridge");
  if (cpu.sse3) cores.emplace_back("Prescott");
  return cores;
}

std::string format_rejected(const std::vector<RejectedCore>& rejected) {
  std::string text;
  for (const RejectedCore& r : rejected) {
    if (!text.empty()) text += ',';
    text += fmt::format("{}:{}", r.core, reason_name(r.reason));
  }
  return text;
}

std::vector<RejectedCore> parse_rejected(std::string_view text) {
  std::vector<RejectedCore> rejected;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string_view reason = entry.substr(colon + 1);
    if (reason == "wrong") {
      rejected.push_back(
          {std::string(entry.substr(0, colon)), RejectedCore::Reason::wrong_product});
    } else if (reason == "unknown") {
      rejected.push_back({std::string(entry.substr(0, colon)), RejectedCore::Reason::not_known});
    }
  }
  return rejected;
}

std::string_view core_source_name(CoreSource source) {
  switch (source) {
    case CoreSource::openblas:
      return "OpenBLAS's own pick";
    case CoreSource::user:
      return "yours, from OPENBLAS_CORETYPE";
    case CoreSource::loom:
      return "chosen by Loom over OpenBLAS's generic pick, checked";
    case CoreSource::fixed_build:
      return "fixed when this OpenBLAS was built";
  }
  return "unknown";
}

CoreDecision decide_openblas_core(const CoreFacts& facts,
                                  const std::function<bool()>& loaded_core_computes_correctly) {
  if (!facts.selectable) return go_on(CoreSource::fixed_build);
  const CoreEnvironment& env = facts.environment;
  const bool loom_chose =
      env.coretype && env.chosen_by_loom && same_core(*env.coretype, *env.chosen_by_loom);
  if (env.coretype && !loom_chose) return keep_users_choice(facts);
  if (loom_chose) return check_loom_choice(facts, loaded_core_computes_correctly);

  // OpenBLAS chose by itself. A core it ranks below one this CPU runs is its
  // generic fallback: try the best one not yet rejected.
  const CoreTier loaded = openblas_core_tier(facts.loaded_core);
  if (loaded == CoreTier::unknown) return go_on(CoreSource::openblas);
  for (const std::string& candidate : facts.candidates) {
    if (openblas_core_tier(candidate) <= loaded) break;  // best first: none better follows
    if (was_rejected(env.rejected, candidate)) continue;
    CoreEnvironment next;
    next.chosen_by_loom = candidate;
    next.detected = facts.loaded_core;
    next.rejected = env.rejected;
    return execute_with(candidate, std::move(next));
  }
  if (env.rejected.empty()) return go_on(CoreSource::openblas);
  std::string why;
  for (const RejectedCore& r : env.rejected) {
    why += fmt::format("{}{} {}", why.empty() ? "" : "; ", r.core, reason_words(r.reason));
  }
  return go_on(CoreSource::openblas,
               fmt::format("BLAS: kept OpenBLAS's own {} kernels: {}", facts.loaded_core, why),
               true);
}

}  // namespace loom::hardware
