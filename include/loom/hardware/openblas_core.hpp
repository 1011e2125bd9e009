// Which OpenBLAS kernel set ("core") this process should run with: the
// decision alone, from facts passed in, so that every combination is
// testable without the CPUs that produce them.
//
// OpenBLAS built with DYNAMIC_ARCH (Debian's, for one) picks its kernels
// when it loads, from CPUID. A CPU newer than the OpenBLAS falls through to
// its generic "Prescott" (SSE3) kernels, five or six times slower than the
// AVX-512 ones the CPU runs. The core can only be chosen before the library
// loads, through OPENBLAS_CORETYPE, so Loom sets it and executes itself
// again; the new process checks a product computed by the chosen kernels
// before trusting them (some OpenBLAS builds compute wrong results with
// some cores on some CPUs) and goes back when it differs.
//
// Loom passes what it did to the process it executes in three variables,
// so the decision is stateless: LOOM_OPENBLAS_CHOSEN (the core Loom put in
// OPENBLAS_CORETYPE), LOOM_OPENBLAS_DETECTED (what OpenBLAS had picked by
// itself) and LOOM_OPENBLAS_REJECTED (cores that failed, "Core:reason,...").
// An OPENBLAS_CORETYPE that is not Loom's is the user's, and always wins.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loom/hardware/cpu_features.hpp"

namespace loom::hardware {

// OpenBLAS's x86-64 cores grouped by the widest instructions their kernels
// use; higher is faster on a CPU that runs it. `unknown` for names Loom
// does not rank (other architectures' cores, or "Unknown").
enum class CoreTier { unknown = 0, sse = 1, avx = 2, avx2 = 3, avx512 = 4, avx512_bf16 = 5 };

CoreTier openblas_core_tier(std::string_view core);  // case-insensitive, as OpenBLAS's

// The cores this CPU runs, best first ("Cooperlake", "SkylakeX", "Haswell",
// "Sandybridge", "Prescott"): one per tier up to the widest its enabled
// extensions allow. Empty off x86-64.
std::vector<std::string> openblas_cores_for(const CpuFeatures& cpu);

// A core Loom tried and gave up on, and why.
struct RejectedCore {
  enum class Reason { wrong_product, not_known };
  std::string core;
  Reason reason = Reason::wrong_product;
  bool operator==(const RejectedCore& other) const {
    return core == other.core && reason == other.reason;
  }
};

// The environment as read at start-up.
struct CoreEnvironment {
  std::optional<std::string> coretype;        // OPENBLAS_CORETYPE
  std::optional<std::string> chosen_by_loom;  // LOOM_OPENBLAS_CHOSEN
  std::optional<std::string> detected;        // LOOM_OPENBLAS_DETECTED
  std::vector<RejectedCore> rejected;         // LOOM_OPENBLAS_REJECTED
};

// LOOM_OPENBLAS_REJECTED's text and back; entries that do not parse are
// dropped (the variable is Loom's own, a bad one only costs a retry).
std::string format_rejected(const std::vector<RejectedCore>& rejected);
std::vector<RejectedCore> parse_rejected(std::string_view text);

struct CoreFacts {
  std::string loaded_core;              // the core OpenBLAS runs in this process
  bool selectable = false;              // a DYNAMIC_ARCH build, on x86-64
  std::vector<std::string> candidates;  // openblas_cores_for(this CPU)
  CoreEnvironment environment;
};

enum class CoreSource {
  openblas,     // OpenBLAS's own pick, kept
  user,         // the user's OPENBLAS_CORETYPE
  loom,         // Loom's choice, checked
  fixed_build,  // an OpenBLAS built for one core: nothing to choose
};

std::string_view core_source_name(CoreSource source);

struct CoreDecision {
  // Execute again with this environment, or go on in this process.
  bool execute_again = false;
  std::optional<std::string> coretype;  // OPENBLAS_CORETYPE to set; none: unset it
  CoreEnvironment next;                 // the LOOM_OPENBLAS_* to pass on

  // When going on: where the core came from, and the line to log (empty for
  // nothing worth a line) and whether it is a warning.
  CoreSource source = CoreSource::openblas;
  std::string message;
  bool warning = false;
};

// `loaded_core_computes_correctly` runs a product with the loaded kernels
// against a reference; it is called only in the process Loom executed with
// its own choice.
CoreDecision decide_openblas_core(const CoreFacts& facts,
                                  const std::function<bool()>& loaded_core_computes_correctly);

}  // namespace loom::hardware
