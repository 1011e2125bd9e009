// What this CPU can do, read from CPUID (x86-64) and checked against what the
// operating system has enabled (XGETBV): a CPU with AVX-512 under a kernel
// that does not save its registers cannot use it. Read once per process;
// cheap. On other architectures only the architecture's name is filled in.
#pragma once

#include <string>

namespace loom::hardware {

struct CpuFeatures {
  std::string architecture;  // "x86_64", "aarch64", ...
  std::string vendor;        // "GenuineIntel", "AuthenticAMD"; empty off x86
  std::string model_name;    // the brand string, "AMD EPYC 9654 96-Core Processor"
  int family = 0;            // x86 display family and model
  int model = 0;

  // Each true only when the CPU has it and the OS has enabled its state.
  bool sse3 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512cd = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;

  // The AVX-512 subset every AVX-512 BLAS kernel set (OpenBLAS's SkylakeX
  // and up, oneDNN's avx512_core) needs.
  bool avx512_core() const { return avx512f && avx512bw && avx512vl && avx512dq && avx512cd; }

  // Matrix products in bf16 run natively: AVX512-BF16 dot products or AMX
  // tiles. Without either, LibTorch emulates bf16 and it is slower than fp32.
  bool native_bf16_matmul() const { return (avx512_core() && avx512_bf16) || amx_bf16; }
};

CpuFeatures detect_cpu_features();

// The vector and matrix extensions, as one line for `loom doctor`:
// "SSE3 AVX AVX2 FMA AVX-512 (F BW VL DQ CD VNNI BF16) AMX (BF16 INT8)".
std::string describe_extensions(const CpuFeatures& cpu);

}  // namespace loom::hardware
