// The choice of OpenBLAS kernels, fed every combination of facts: no CPU or
// OpenBLAS build here has to produce them. A simulated OpenBLAS (loads the
// core OPENBLAS_CORETYPE names if it knows it, else its generic Prescott)
// also runs whole chains of executions to their end.
#include "loom/hardware/openblas_core.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace loom::test {
namespace {

using hardware::CoreDecision;
using hardware::CoreEnvironment;
using hardware::CoreFacts;
using hardware::CoreSource;
using hardware::CoreTier;
using hardware::CpuFeatures;
using hardware::RejectedCore;

const std::vector<std::string> kSapphireRapidsCores = {"Cooperlake", "SkylakeX", "Haswell",
                                                       "Sandybridge", "Prescott"};

CpuFeatures x86(bool avx, bool avx2, bool avx512, bool bf16) {
  CpuFeatures cpu;
  cpu.architecture = "x86_64";
  cpu.sse3 = true;
  cpu.avx = avx;
  cpu.avx2 = avx2;
  cpu.fma = avx2;
  cpu.avx512f = cpu.avx512bw = cpu.avx512vl = cpu.avx512dq = cpu.avx512cd = avx512;
  cpu.avx512_bf16 = bf16;
  return cpu;
}

CoreFacts facts(std::string loaded, CoreEnvironment env = {},
                std::vector<std::string> candidates = kSapphireRapidsCores) {
  CoreFacts f;
  f.loaded_core = std::move(loaded);
  f.selectable = true;
  f.candidates = std::move(candidates);
  f.environment = std::move(env);
  return f;
}

// The environment of the process Loom executed with `core` in place of
// OpenBLAS's generic Prescott.
CoreEnvironment loom_chose(const std::string& core) {
  CoreEnvironment env;
  env.coretype = core;
  env.chosen_by_loom = core;
  env.detected = "Prescott";
  return env;
}

// A product check that must not run.
bool no_check() {
  ADD_FAILURE() << "the product check ran where no core of Loom's was loaded";
  return true;
}

TEST(OpenBlasCoreTier, RanksOpenBlasNamesCaseInsensitively) {
  EXPECT_EQ(hardware::openblas_core_tier("Prescott"), CoreTier::sse);
  EXPECT_EQ(hardware::openblas_core_tier("NEHALEM"), CoreTier::sse);
  EXPECT_EQ(hardware::openblas_core_tier("Sandybridge"), CoreTier::avx);
  EXPECT_EQ(hardware::openblas_core_tier("zen"), CoreTier::avx2);
  EXPECT_EQ(hardware::openblas_core_tier("Haswell"), CoreTier::avx2);
  EXPECT_EQ(hardware::openblas_core_tier("SKYLAKEX"), CoreTier::avx512);
  EXPECT_EQ(hardware::openblas_core_tier("Cooperlake"), CoreTier::avx512_bf16);
  EXPECT_EQ(hardware::openblas_core_tier("SapphireRapids"), CoreTier::avx512_bf16);
  EXPECT_EQ(hardware::openblas_core_tier("Unknown"), CoreTier::unknown);
  EXPECT_EQ(hardware::openblas_core_tier("NeoverseN1"), CoreTier::unknown);
}

TEST(OpenBlasCoresFor, OneCorePerTierUpToWhatTheCpuRuns) {
  using V = std::vector<std::string>;
  EXPECT_EQ(hardware::openblas_cores_for(x86(false, false, false, false)), V{"Prescott"});
  EXPECT_EQ(hardware::openblas_cores_for(x86(true, false, false, false)),
            (V{"Sandybridge", "Prescott"}));
  EXPECT_EQ(hardware::openblas_cores_for(x86(true, true, false, false)),
            (V{"Haswell", "Sandybridge", "Prescott"}));
  EXPECT_EQ(hardware::openblas_cores_for(x86(true, true, true, false)),
            (V{"SkylakeX", "Haswell", "Sandybridge", "Prescott"}));
  EXPECT_EQ(hardware::openblas_cores_for(x86(true, true, true, true)), kSapphireRapidsCores);
  // AVX-512F without BW/VL/DQ (Knights Landing) runs no SkylakeX kernels.
  CpuFeatures knights = x86(true, true, false, false);
  knights.avx512f = true;
  EXPECT_EQ(hardware::openblas_cores_for(knights), (V{"Haswell", "Sandybridge", "Prescott"}));
  CpuFeatures arm;
  arm.architecture = "aarch64";
  EXPECT_TRUE(hardware::openblas_cores_for(arm).empty());
}

TEST(OpenBlasRejected, RoundTripsAndDropsWhatDoesNotParse) {
  const std::vector<RejectedCore> rejected = {{"Cooperlake", RejectedCore::Reason::wrong_product},
                                              {"SkylakeX", RejectedCore::Reason::not_known}};
  EXPECT_EQ(hardware::format_rejected(rejected), "Cooperlake:wrong,SkylakeX:unknown");
  EXPECT_EQ(hardware::parse_rejected("Cooperlake:wrong,SkylakeX:unknown"), rejected);
  EXPECT_EQ(hardware::parse_rejected("Cooperlake:wrong,junk,:wrong,Haswell:maybe,SkylakeX:unknown"),
            rejected);
  EXPECT_TRUE(hardware::parse_rejected("").empty());
}

TEST(OpenBlasDecision, AnOpenBlasBuiltForOneCoreIsLeftAlone) {
  CoreFacts f = facts("Prescott");
  f.selectable = false;
  const CoreDecision d = hardware::decide_openblas_core(f, no_check);
  EXPECT_FALSE(d.execute_again);
  EXPECT_EQ(d.source, CoreSource::fixed_build);
  EXPECT_EQ(d.message, "");
}

TEST(OpenBlasDecision, AGenericFallbackIsReplacedByTheBestCore) {
  const CoreDecision d = hardware::decide_openblas_core(facts("Prescott"), no_check);
  ASSERT_TRUE(d.execute_again);
  EXPECT_EQ(d.coretype, "Cooperlake");
  EXPECT_EQ(d.next.chosen_by_loom, "Cooperlake");
  EXPECT_EQ(d.next.detected, "Prescott");
  EXPECT_TRUE(d.next.rejected.empty());
}

TEST(OpenBlasDecision, ACoreBelowWhatTheCpuRunsIsReplacedToo) {
  const CoreDecision d = hardware::decide_openblas_core(facts("Haswell"), no_check);
  ASSERT_TRUE(d.execute_again);
  EXPECT_EQ(d.coretype, "Cooperlake");
  EXPECT_EQ(d.next.detected, "Haswell");
}

TEST(OpenBlasDecision, OpenBlassOwnPickIsKeptWhenNothingBetterRuns) {
  for (const char* loaded : {"Cooperlake", "cooperlake", "SapphireRapids"}) {
    const CoreDecision d = hardware::decide_openblas_core(facts(loaded), no_check);
    EXPECT_FALSE(d.execute_again) << loaded;
    EXPECT_EQ(d.source, CoreSource::openblas);
    EXPECT_EQ(d.message, "");
  }
  // Zen is Haswell's tier: an AVX2 CPU keeps it.
  const CoreDecision zen = hardware::decide_openblas_core(
      facts("Zen", {}, {"Haswell", "Sandybridge", "Prescott"}), no_check);
  EXPECT_FALSE(zen.execute_again);
  // Names Loom does not rank (another architecture's cores) are left alone.
  const CoreDecision arm = hardware::decide_openblas_core(facts("NeoverseN1"), no_check);
  EXPECT_FALSE(arm.execute_again);
  EXPECT_EQ(arm.source, CoreSource::openblas);
}

TEST(OpenBlasDecision, TheUsersCoreTypeAlwaysWins) {
  CoreEnvironment env;
  env.coretype = "Prescott";
  const CoreDecision slow = hardware::decide_openblas_core(facts("Prescott", env), no_check);
  EXPECT_FALSE(slow.execute_again);
  EXPECT_EQ(slow.source, CoreSource::user);
  EXPECT_EQ(slow.message,
            "BLAS: OPENBLAS_CORETYPE=Prescott (yours) is kept; this CPU runs the faster "
            "Cooperlake kernels (unset OPENBLAS_CORETYPE to let Loom choose)");

  env.coretype = "cooperlake";
  const CoreDecision best = hardware::decide_openblas_core(facts("Cooperlake", env), no_check);
  EXPECT_FALSE(best.execute_again);
  EXPECT_EQ(best.source, CoreSource::user);
  EXPECT_EQ(best.message, "");

  // A name OpenBLAS did not know: it ran Prescott, and the line says so.
  env.coretype = "Skylake";
  const CoreDecision typo = hardware::decide_openblas_core(facts("Prescott", env), no_check);
  EXPECT_FALSE(typo.execute_again);
  EXPECT_EQ(typo.message,
            "BLAS: OPENBLAS_CORETYPE=Skylake (yours) is kept; OpenBLAS runs its Prescott kernels; "
            "this CPU runs the faster Cooperlake kernels (unset OPENBLAS_CORETYPE to let Loom "
            "choose)");

  // Loom's markers for another core than OPENBLAS_CORETYPE: the user set it since.
  env = loom_chose("Cooperlake");
  env.coretype = "Haswell";
  const CoreDecision changed = hardware::decide_openblas_core(facts("Haswell", env), no_check);
  EXPECT_FALSE(changed.execute_again);
  EXPECT_EQ(changed.source, CoreSource::user);
}

TEST(OpenBlasDecision, LoomsChoiceIsKeptOnlyAfterItsProductChecks) {
  const CoreEnvironment env = loom_chose("Cooperlake");
  int checks = 0;
  const CoreDecision good = hardware::decide_openblas_core(facts("Cooperlake", env), [&] {
    ++checks;
    return true;
  });
  EXPECT_EQ(checks, 1);
  EXPECT_FALSE(good.execute_again);
  EXPECT_EQ(good.source, CoreSource::loom);
  EXPECT_FALSE(good.warning);
  EXPECT_EQ(good.message,
            "BLAS: OpenBLAS picked its generic Prescott kernels for this CPU; Loom runs its "
            "Cooperlake kernels instead, checked against a reference product (set "
            "OPENBLAS_CORETYPE to choose yourself)");

  const CoreDecision bad =
      hardware::decide_openblas_core(facts("Cooperlake", env), [] { return false; });
  ASSERT_TRUE(bad.execute_again);
  EXPECT_EQ(bad.coretype, std::nullopt);  // back to OpenBLAS's own pick
  EXPECT_EQ(bad.next.chosen_by_loom, std::nullopt);
  EXPECT_EQ(bad.next.detected, "Prescott");
  EXPECT_EQ(bad.next.rejected,
            (std::vector<RejectedCore>{{"Cooperlake", RejectedCore::Reason::wrong_product}}));
}

TEST(OpenBlasDecision, ACoreThisOpenBlasDoesNotKnowIsRejectedWithoutACheck) {
  const CoreDecision d =
      hardware::decide_openblas_core(facts("Prescott", loom_chose("SapphireRapids")), no_check);
  ASSERT_TRUE(d.execute_again);
  EXPECT_EQ(d.coretype, std::nullopt);
  EXPECT_EQ(d.next.rejected,
            (std::vector<RejectedCore>{{"SapphireRapids", RejectedCore::Reason::not_known}}));
}

TEST(OpenBlasDecision, RejectedCoresAreSkippedAndNamedWhenNoneIsLeft) {
  CoreEnvironment env;
  env.rejected = {{"Cooperlake", RejectedCore::Reason::wrong_product}};
  const CoreDecision next = hardware::decide_openblas_core(facts("Prescott", env), no_check);
  ASSERT_TRUE(next.execute_again);
  EXPECT_EQ(next.coretype, "SkylakeX");
  EXPECT_EQ(next.next.rejected, env.rejected);

  env.rejected = {{"Cooperlake", RejectedCore::Reason::wrong_product},
                  {"skylakex", RejectedCore::Reason::not_known},
                  {"Haswell", RejectedCore::Reason::wrong_product},
                  {"Sandybridge", RejectedCore::Reason::wrong_product}};
  const CoreDecision none = hardware::decide_openblas_core(facts("Prescott", env), no_check);
  EXPECT_FALSE(none.execute_again);
  EXPECT_EQ(none.source, CoreSource::openblas);
  EXPECT_TRUE(none.warning);
  EXPECT_EQ(none.message,
            "BLAS: kept OpenBLAS's own Prescott kernels: Cooperlake computed a wrong check "
            "product; skylakex is not a core this OpenBLAS knows; Haswell computed a wrong check "
            "product; Sandybridge computed a wrong check product");
}

// An OpenBLAS that falls back to Prescott on this CPU, knows only some
// cores, and computes wrong products with some: every chain of executions
// ends within one execution per core and lands on the best core that is
// known and right, else on Prescott with a warning.
TEST(OpenBlasDecision, EveryChainOfExecutionsEndsOnTheBestCoreThatWorks) {
  const std::vector<std::string> above = {"Cooperlake", "SkylakeX", "Haswell", "Sandybridge"};
  const int subsets = 1 << above.size();
  for (int unknown_mask = 0; unknown_mask < subsets; ++unknown_mask) {
    for (int wrong_mask = 0; wrong_mask < subsets; ++wrong_mask) {
      const auto in = [&](int mask, const std::string& core) {
        for (std::size_t i = 0; i < above.size(); ++i)
          if (above[i] == core) return ((mask >> i) & 1) != 0;
        return false;
      };
      std::string expected = "Prescott";
      for (const std::string& core : above) {
        if (!in(unknown_mask, core) && !in(wrong_mask, core)) {
          expected = core;
          break;
        }
      }
      CoreEnvironment env;  // the user's shell: nothing set
      CoreDecision decision;
      std::string loaded;
      int executions = 0;
      for (;; ++executions) {
        ASSERT_LE(executions, 2 * static_cast<int>(above.size()))
            << "no end: unknown " << unknown_mask << ", wrong " << wrong_mask;
        loaded = env.coretype && !in(unknown_mask, *env.coretype) ? *env.coretype : "Prescott";
        decision = hardware::decide_openblas_core(facts(loaded, env),
                                                  [&] { return !in(wrong_mask, loaded); });
        if (!decision.execute_again) break;
        env = decision.next;
        env.coretype = decision.coretype;
      }
      const std::string label =
          "unknown " + std::to_string(unknown_mask) + ", wrong " + std::to_string(wrong_mask);
      EXPECT_EQ(loaded, expected) << label;
      if (expected == "Prescott") {
        EXPECT_EQ(decision.source, CoreSource::openblas) << label;
        EXPECT_EQ(decision.warning, unknown_mask != 0 || wrong_mask != 0) << label;
      } else {
        EXPECT_EQ(decision.source, CoreSource::loom) << label;
        EXPECT_FALSE(decision.warning) << label;
      }
    }
  }
}

}  // namespace
}  // namespace loom::test
