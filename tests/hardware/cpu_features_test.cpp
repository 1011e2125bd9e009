// CPUID as Loom reads it against the kernel's own reading in /proc/cpuinfo
// (Linux lists a feature there only when the CPU has it and the kernel
// enabled its state), on whatever CPU runs the test.
#include "loom/hardware/cpu_features.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace loom::test {
namespace {

struct ProcCpuInfo {
  std::set<std::string> flags;
  std::string model_name;
  int family = -1;
  int model = -1;
};

std::string value_of(const std::string& line) {
  const size_t colon = line.find(':');
  return colon == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", colon + 1));
}

// The first processor's entry.
ProcCpuInfo read_proc_cpuinfo() {
  ProcCpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) break;
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(value_of(line));
      std::string word;
      while (words >> word)
        info.flags.insert(word);
    } else if (line.rfind("model name", 0) == 0) {
      info.model_name = value_of(line);
    } else if (line.rfind("cpu family", 0) == 0) {
      info.family = std::stoi(value_of(line));
    } else if (line.rfind("model\t", 0) == 0 || line.rfind("model ", 0) == 0) {
      info.model = std::stoi(value_of(line));
    }
  }
  return info;
}

TEST(CpuFeatures, AgreeWithTheKernelsReading) {
  const hardware::CpuFeatures cpu = hardware::detect_cpu_features();
#if !defined(__x86_64__)
  GTEST_SKIP() << "CPUID is read on x86-64 only; this is " << cpu.architecture;
#endif
  EXPECT_EQ(cpu.architecture, "x86_64");
  const ProcCpuInfo proc = read_proc_cpuinfo();
  if (proc.flags.empty()) GTEST_SKIP() << "/proc/cpuinfo lists no flags here";
  const auto has = [&](const char* flag) { return proc.flags.count(flag) == 1; };
  EXPECT_EQ(cpu.sse3, has("pni"));
  EXPECT_EQ(cpu.avx, has("avx"));
  EXPECT_EQ(cpu.avx2, has("avx2"));
  EXPECT_EQ(cpu.fma, has("fma"));
  EXPECT_EQ(cpu.avx512f, has("avx512f"));
  EXPECT_EQ(cpu.avx512bw, has("avx512bw"));
  EXPECT_EQ(cpu.avx512vl, has("avx512vl"));
  EXPECT_EQ(cpu.avx512dq, has("avx512dq"));
  EXPECT_EQ(cpu.avx512cd, has("avx512cd"));
  EXPECT_EQ(cpu.avx512_vnni, has("avx512_vnni"));
  EXPECT_EQ(cpu.avx512_bf16, has("avx512_bf16"));
  EXPECT_EQ(cpu.avx_vnni, has("avx_vnni"));
  EXPECT_EQ(cpu.amx_tile, has("amx_tile"));
  EXPECT_EQ(cpu.amx_bf16, has("amx_bf16"));
  EXPECT_EQ(cpu.amx_int8, has("amx_int8"));
  EXPECT_EQ(cpu.model_name, proc.model_name);
  EXPECT_EQ(cpu.family, proc.family);
  EXPECT_EQ(cpu.model, proc.model);
}

TEST(CpuFeatures, DescribesExtensionsInOneLine) {
  hardware::CpuFeatures cpu;
  EXPECT_EQ(hardware::describe_extensions(cpu), "none detected");
  cpu.sse3 = cpu.avx = cpu.avx2 = cpu.fma = true;
  EXPECT_EQ(hardware::describe_extensions(cpu), "SSE3 AVX AVX2 FMA");
  cpu.avx512f = cpu.avx512bw = cpu.avx512vl = cpu.avx512dq = cpu.avx512cd = true;
  cpu.avx512_bf16 = true;
  cpu.amx_tile = cpu.amx_bf16 = cpu.amx_int8 = true;
  EXPECT_EQ(hardware::describe_extensions(cpu),
            "SSE3 AVX AVX2 FMA AVX-512 (F BW VL DQ CD BF16) AMX (TILE BF16 INT8)");
  EXPECT_TRUE(cpu.native_bf16_matmul());
}

TEST(CpuFeatures, NativeBf16NeedsAvx512Bf16OrAmx) {
  hardware::CpuFeatures cpu;
  cpu.avx512f = cpu.avx512bw = cpu.avx512vl = cpu.avx512dq = cpu.avx512cd = true;
  EXPECT_FALSE(cpu.native_bf16_matmul());  // AVX-512 alone: LibTorch emulates bf16
  cpu.avx512_bf16 = true;
  EXPECT_TRUE(cpu.native_bf16_matmul());
  hardware::CpuFeatures amx_only;
  amx_only.amx_bf16 = true;
  EXPECT_TRUE(amx_only.native_bf16_matmul());
}

}  // namespace
}  // namespace loom::test
