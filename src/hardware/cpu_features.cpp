#include "loom/hardware/cpu_features.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <sys/utsname.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace loom::hardware {
namespace {

std::string machine_architecture() {
  utsname names{};
  if (uname(&names) != 0) return "unknown";
  return names.machine;
}

#if defined(__x86_64__)

struct Registers {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Registers cpuid(unsigned leaf, unsigned subleaf = 0) {
  Registers r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool bit(unsigned value, int index) {
  return ((value >> index) & 1U) != 0;
}

// XCR0, the register state the OS saves on a context switch. Only read when
// CPUID says OSXSAVE, else XGETBV faults.
std::uint64_t enabled_register_state() {
  unsigned low = 0;
  unsigned high = 0;
  __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (static_cast<std::uint64_t>(high) << 32) | low;
}

void read_x86(CpuFeatures& cpu) {
  const unsigned max_leaf = cpuid(0).eax;
  const Registers vendor = cpuid(0);
  std::array<char, 13> vendor_text{};
  std::memcpy(vendor_text.data(), &vendor.ebx, 4);
  std::memcpy(vendor_text.data() + 4, &vendor.edx, 4);
  std::memcpy(vendor_text.data() + 8, &vendor.ecx, 4);
  cpu.vendor = vendor_text.data();

  const Registers leaf1 = cpuid(1);
  const unsigned base_family = (leaf1.eax >> 8) & 0xF;
  const unsigned base_model = (leaf1.eax >> 4) & 0xF;
  cpu.family =
      static_cast<int>(base_family == 0xF ? base_family + ((leaf1.eax >> 20) & 0xFF) : base_family);
  cpu.model = static_cast<int>((base_family == 0x6 || base_family == 0xF)
                                   ? base_model + (((leaf1.eax >> 16) & 0xF) << 4)
                                   : base_model);

  const bool osxsave = bit(leaf1.ecx, 27);
  const std::uint64_t xcr0 = osxsave ? enabled_register_state() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;                 // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM halves
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;         // TILECFG, TILEDATA

  cpu.sse3 = bit(leaf1.ecx, 0);
  cpu.fma = os_avx && bit(leaf1.ecx, 12);
  cpu.avx = os_avx && bit(leaf1.ecx, 28);
  if (max_leaf >= 7) {
    const Registers leaf7 = cpuid(7, 0);
    cpu.avx2 = os_avx && bit(leaf7.ebx, 5);
    cpu.avx512f = os_avx512 && bit(leaf7.ebx, 16);
    cpu.avx512dq = os_avx512 && bit(leaf7.ebx, 17);
    cpu.avx512cd = os_avx512 && bit(leaf7.ebx, 28);
    cpu.avx512bw = os_avx512 && bit(leaf7.ebx, 30);
    cpu.avx512vl = os_avx512 && bit(leaf7.ebx, 31);
    cpu.avx512_vnni = os_avx512 && bit(leaf7.ecx, 11);
    cpu.amx_bf16 = os_amx && bit(leaf7.edx, 22);
    cpu.amx_tile = os_amx && bit(leaf7.edx, 24);
    cpu.amx_int8 = os_amx && bit(leaf7.edx, 25);
    if (leaf7.eax >= 1) {
      const Registers leaf7_1 = cpuid(7, 1);
      cpu.avx_vnni = os_avx && bit(leaf7_1.eax, 4);
      cpu.avx512_bf16 = os_avx512 && bit(leaf7_1.eax, 5);
    }
  }

  if (cpuid(0x80000000).eax >= 0x80000004) {
    std::array<char, 49> brand{};
    for (unsigned i = 0; i < 3; ++i) {
      const Registers part = cpuid(0x80000002 + i);
      std::memcpy(brand.data() + 16 * i, &part, 16);
    }
    std::string name = brand.data();
    const size_t first = name.find_first_not_of(' ');
    const size_t last = name.find_last_not_of(' ');
    cpu.model_name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
  }
}

#endif

}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures cpu;
  cpu.architecture = machine_architecture();
#if defined(__x86_64__)
  read_x86(cpu);
#endif
  return cpu;
}

std::string describe_extensions(const CpuFeatures& cpu) {
  std::vector<std::string> words;
  const auto add = [&words](bool present, const char* name) {
    if (present) words.emplace_back(name);
  };
  add(cpu.sse3, "SSE3");
  add(cpu.avx, "AVX");
  add(cpu.avx2, "AVX2");
  add(cpu.fma, "FMA");
  add(cpu.avx_vnni, "AVX-VNNI");
  if (cpu.avx512f) {
    std::string avx512 = "AVX-512 (F";
    const auto sub = [&avx512](bool present, const char* name) {
      if (present) avx512 += std::string(" ") + name;
    };
    sub(cpu.avx512bw, "BW");
    sub(cpu.avx512vl, "VL");
    sub(cpu.avx512dq, "DQ");
    sub(cpu.avx512cd, "CD");
    sub(cpu.avx512_vnni, "VNNI");
    sub(cpu.avx512_bf16, "BF16");
    words.push_back(avx512 + ")");
  }
  if (cpu.amx_tile) {
    std::string amx = "AMX (TILE";
    if (cpu.amx_bf16) amx += " BF16";
    if (cpu.amx_int8) amx += " INT8";
    words.push_back(amx + ")");
  }
  if (words.empty()) return "none detected";
  std::string line = words.front();
  for (size_t i = 1; i < words.size(); ++i)
    line += " " + words[i];
  return line;
}

}  // namespace loom::hardware
