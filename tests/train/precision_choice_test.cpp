// train.precision: auto for every kind of device, and explicit precisions
// kept as they are.
#include <gtest/gtest.h>

#include "loom/train/compute_setup.hpp"

namespace loom::test {
namespace {

using config::Precision;
using train::PrecisionFacts;

PrecisionFacts cpu_with(bool avx512, bool avx512_bf16, bool amx_bf16) {
  PrecisionFacts facts;
  facts.cpu.architecture = "x86_64";
  facts.cpu.avx512f = facts.cpu.avx512bw = facts.cpu.avx512vl = facts.cpu.avx512dq =
      facts.cpu.avx512cd = avx512;
  facts.cpu.avx512_bf16 = avx512_bf16;
  facts.cpu.amx_bf16 = facts.cpu.amx_tile = amx_bf16;
  return facts;
}

PrecisionFacts gpu(int major, int minor) {
  PrecisionFacts facts;
  facts.cuda = true;
  facts.capability = hardware::ComputeCapability{major, minor};
  return facts;
}

TEST(PrecisionChoice, AutoIsBf16OnCpusThatMultiplyBf16Natively) {
  const auto bf16_avx512 =
      train::choose_precision(Precision::automatic, cpu_with(true, true, false));
  EXPECT_EQ(bf16_avx512.precision, Precision::bf16);
  EXPECT_EQ(bf16_avx512.reason, "auto: this CPU multiplies bf16 natively (AVX512-BF16)");
  const auto amx = train::choose_precision(Precision::automatic, cpu_with(true, true, true));
  EXPECT_EQ(amx.precision, Precision::bf16);
  EXPECT_EQ(amx.reason, "auto: this CPU multiplies bf16 natively (AMX, AVX512-BF16)");
}

TEST(PrecisionChoice, AutoIsFp32WhereBf16WouldBeEmulated) {
  for (const PrecisionFacts& facts :
       {cpu_with(false, false, false), cpu_with(true, false, false)}) {
    const auto choice = train::choose_precision(Precision::automatic, facts);
    EXPECT_EQ(choice.precision, Precision::fp32);
    EXPECT_EQ(choice.reason,
              "auto: this CPU has no native bf16 matrix products (AVX512-BF16 or AMX), where bf16 "
              "would be slower than fp32");
  }
  // AVX512-BF16 reported without the AVX-512 core it extends is not used.
  EXPECT_EQ(train::choose_precision(Precision::automatic, cpu_with(false, true, false)).precision,
            Precision::fp32);
}

TEST(PrecisionChoice, AutoOnCudaFollowsTheComputeCapability) {
  const auto ampere = train::choose_precision(Precision::automatic, gpu(8, 0));
  EXPECT_EQ(ampere.precision, Precision::bf16);
  EXPECT_EQ(ampere.reason, "auto: the GPU (compute capability 8.0) multiplies bf16 natively");
  EXPECT_EQ(train::choose_precision(Precision::automatic, gpu(9, 0)).precision, Precision::bf16);
  const auto volta = train::choose_precision(Precision::automatic, gpu(7, 0));
  EXPECT_EQ(volta.precision, Precision::fp32);
  EXPECT_EQ(volta.reason, "auto: the GPU (compute capability 7.0) has no native bf16");
  PrecisionFacts unknown;
  unknown.cuda = true;
  EXPECT_EQ(train::choose_precision(Precision::automatic, unknown).precision, Precision::fp32);
}

TEST(PrecisionChoice, AnExplicitPrecisionIsKeptEverywhere) {
  for (const Precision p : {Precision::fp32, Precision::bf16, Precision::fp16}) {
    for (const PrecisionFacts& facts :
         {cpu_with(false, false, false), cpu_with(true, true, true), gpu(7, 0), gpu(9, 0)}) {
      const auto choice = train::choose_precision(p, facts);
      EXPECT_EQ(choice.precision, p);
      EXPECT_EQ(choice.reason, "set in the config");
    }
  }
}

}  // namespace
}  // namespace loom::test
