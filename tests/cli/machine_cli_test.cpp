// The built `loom` on this machine: the OpenBLAS kernels it runs with and
// where they came from, `loom doctor`'s report against the kernel's
// /proc/cpuinfo and OpenBLAS's own words (OPENBLAS_VERBOSE=2 makes OpenBLAS
// print "Core: <name>" each time it loads, so the count of those lines is
// the count of process images: one more than the times Loom executed
// itself), and the precision train.precision: auto picks.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <gtest/gtest.h>

#include "loom/hardware/openblas_core.hpp"
#include "loom/run_dir/metrics_log.hpp"

namespace loom::test {
namespace {

// Every Loom and OpenBLAS variable cleared, as in a user's fresh shell,
// then `assignments` set.
CommandResult run_loom_with(const std::string& assignments, const std::string& args) {
  return run_command(
      "env -u OPENBLAS_CORETYPE -u LOOM_OPENBLAS_CHOSEN -u LOOM_OPENBLAS_DETECTED "
      "-u LOOM_OPENBLAS_REJECTED OPENBLAS_VERBOSE=2 " +
      assignments + " '" + LOOM_BINARY + "' " + args);
}

// The cores OpenBLAS reported loading, in order.
std::vector<std::string> loaded_cores(const std::string& err) {
  std::vector<std::string> cores;
  const std::regex line(R"((^|\n)Core: (\w+))");
  for (std::sregex_iterator it(err.begin(), err.end(), line), end; it != end; ++it)
    cores.push_back((*it)[2]);
  return cores;
}

// The value of `loom doctor`'s row `name`, "" without it.
std::string doctor_row(const std::string& out, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex("\n  " + name + " +([^\n]*)"))) return "";
  return match[1];
}

bool cpuinfo_has(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

// Skips the calling test when this build's LibTorch brings no OpenBLAS.
#define SKIP_WITHOUT_OPENBLAS(doctor_out)                                          \
  if (doctor_row(doctor_out, "kernels").empty())                                   \
  GTEST_SKIP() << "this build computes with " << doctor_row(doctor_out, "library") \
               << ", not OpenBLAS"

TEST(MachineCli, VersionNamesTheBlasAndItsKernels) {
  const CommandResult result = run_loom("--version");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::regex_search(
      result.out,
      std::regex(R"(\n  BLAS      (OpenBLAS \d+\.\d+\.\d+ \((DYNAMIC_ARCH, )?)"
                 R"((sequential|pthreads|OpenMP)\), \w+ kernels|MKL \(inside LibTorch\))\n)")))
      << result.out;
}

TEST(MachineCli, DoctorReportsTheCpuAndTheKernelsOpenBlasSaysItLoaded) {
  const CommandResult result = run_loom_with("", "doctor");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string extensions = doctor_row(result.out, "extensions");
  EXPECT_EQ(extensions.find("AVX2") != std::string::npos, cpuinfo_has("avx2")) << extensions;
  EXPECT_EQ(extensions.find("BF16") != std::string::npos,
            cpuinfo_has("avx512_bf16") || cpuinfo_has("amx_bf16"))
      << extensions;
  EXPECT_NE(doctor_row(result.out, "cpu")
                .find(cpuinfo_has("avx512_bf16") || cpuinfo_has("amx_bf16")
                          ? "bf16 (auto: this CPU multiplies bf16"
                          : "fp32 (auto: this CPU has no native bf16"),
            std::string::npos)
      << result.out;
  SKIP_WITHOUT_OPENBLAS(result.out);
  const std::vector<std::string> cores = loaded_cores(result.err);
  ASSERT_FALSE(cores.empty()) << result.err;
  const std::string kernels = doctor_row(result.out, "kernels");
  EXPECT_EQ(kernels.rfind(cores.back() + " (", 0), 0u) << kernels << "\n" << result.err;
  EXPECT_NE(doctor_row(result.out, "check").find("match a float64 reference"), std::string::npos)
      << result.out;
  // Either OpenBLAS's pick was already as good as the best this CPU runs
  // (one process image; "Zen" ranks with "Haswell"), or Loom executed itself
  // with its own choice, checked (two images, more when a first choice was
  // not known to this OpenBLAS), or every choice failed and OpenBLAS's pick
  // stayed with a warning.
  const hardware::CoreTier loaded = hardware::openblas_core_tier(cores.back());
  const hardware::CoreTier best = hardware::openblas_core_tier(doctor_row(result.out, "best here"));
  if (kernels.find("OpenBLAS's own pick") != std::string::npos) {
    if (cores.size() == 1) {
      EXPECT_GE(loaded, best) << result.out;
    } else {
      EXPECT_NE(result.err.find("BLAS: kept OpenBLAS's own"), std::string::npos) << result.err;
    }
  } else {
    EXPECT_NE(kernels.find("chosen by Loom over OpenBLAS's generic pick, checked"),
              std::string::npos)
        << kernels;
    EXPECT_GE(cores.size(), 2u) << result.err;
    EXPECT_LT(hardware::openblas_core_tier(cores.front()), loaded) << result.err;
  }
}

TEST(MachineCli, TheUsersCoreTypeIsKeptAndTrainingSaysWhatItCosts) {
  const CommandResult doctor = run_loom_with("OPENBLAS_CORETYPE=Prescott", "doctor");
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  SKIP_WITHOUT_OPENBLAS(doctor.out);
  EXPECT_EQ(loaded_cores(doctor.err), std::vector<std::string>{"Prescott"}) << doctor.err;
  EXPECT_EQ(doctor_row(doctor.out, "kernels"), "Prescott (yours, from OPENBLAS_CORETYPE)");

  const std::string best = doctor_row(doctor.out, "best here");
  if (best.empty() || best == "Prescott") GTEST_SKIP() << "this CPU runs nothing faster";
  TempDir dir;
  const std::string config = dir.file("tiny.yaml");
  ASSERT_EQ(prepare_tiny_run_with_loom(dir.path().string(), config).exit_code, 0);
  const CommandResult trained =
      run_loom_with("OPENBLAS_CORETYPE=Prescott", "train '" + config + "' --set train.max_iters=2");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_EQ(loaded_cores(trained.err), std::vector<std::string>{"Prescott"}) << trained.err;
  EXPECT_NE(trained.out.find("BLAS: OPENBLAS_CORETYPE=Prescott (yours) is kept; this CPU runs "
                             "the faster " +
                             best + " kernels (unset OPENBLAS_CORETYPE to let Loom choose)\n"),
            std::string::npos)
      << trained.out;
}

// The second half of Loom's change of kernels, as the process it executes
// sees it: the core it chose is checked, kept and logged.
TEST(MachineCli, LoomsChosenCoreIsCheckedAndKept) {
  if (!cpuinfo_has("avx2") || !cpuinfo_has("fma"))
    GTEST_SKIP() << "this CPU runs no Haswell kernels";
  const CommandResult result = run_loom_with(
      "OPENBLAS_CORETYPE=Haswell LOOM_OPENBLAS_CHOSEN=Haswell LOOM_OPENBLAS_DETECTED=Prescott",
      "-v doctor");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  SKIP_WITHOUT_OPENBLAS(result.out);
  EXPECT_EQ(loaded_cores(result.err), std::vector<std::string>{"Haswell"}) << result.err;
  EXPECT_EQ(doctor_row(result.out, "kernels"),
            "Haswell (chosen by Loom over OpenBLAS's generic pick, checked)");
  EXPECT_NE(result.out.find("BLAS: OpenBLAS picked its generic Prescott kernels for this CPU; "
                            "Loom runs its Haswell kernels instead, checked against a reference "
                            "product (set OPENBLAS_CORETYPE to choose yourself)"),
            std::string::npos)
      << result.out;
}

// What auto chose is in the run log and in every metrics record, and is
// what `loom doctor` says auto picks on this CPU.
TEST(MachineCli, TrainingLogsAndRecordsThePrecisionAutoChose) {
  const CommandResult doctor = run_loom("doctor");
  ASSERT_EQ(doctor.exit_code, 0) << doctor.err;
  const std::string cpu_choice = doctor_row(doctor.out, "cpu");  // "bf16 (auto: ...)"
  const std::string precision = cpu_choice.substr(0, cpu_choice.find(' '));
  ASSERT_TRUE(precision == "bf16" || precision == "fp32") << doctor.out;

  TempDir dir;
  const std::string config = dir.file("tiny.yaml");
  ASSERT_EQ(prepare_tiny_run_with_loom(dir.path().string(), config).exit_code, 0);
  const CommandResult trained = run_loom("train '" + config + "' --set train.max_iters=3");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_NE(trained.out.find("precision " + cpu_choice + "\n"), std::string::npos) << trained.out;
  const auto records = run_dir::read_metrics(dir.file("runs/tiny/metrics.jsonl"));
  int steps = 0;
  for (const nlohmann::json& record : records) {
    if (!record.contains("loss")) continue;
    ++steps;
    EXPECT_EQ(record.value("precision", ""), precision) << record.dump();
  }
  EXPECT_EQ(steps, 3);

  const CommandResult explicit_fp32 =
      run_loom("train '" + config +
               "' --set train.precision=fp32 --set run.name=fp32 --set train.max_iters=1");
  ASSERT_EQ(explicit_fp32.exit_code, 0) << explicit_fp32.err;
  EXPECT_NE(explicit_fp32.out.find("precision fp32 (set in the config)\n"), std::string::npos)
      << explicit_fp32.out;
}

}  // namespace
}  // namespace loom::test
