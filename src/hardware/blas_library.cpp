#include "loom/hardware/blas_library.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

namespace loom::hardware {
namespace {

template <class Function>
Function* find_symbol(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_DEFAULT, name));
}

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The Fortran BLAS interface OpenBLAS exports (32-bit integers: Debian's
// and LibTorch's OpenBLAS builds are LP64).
using Sgemm = void(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                   const float* alpha, const float* a, const int* lda, const float* b,
                   const int* ldb, const float* beta, float* c, const int* ldc);

std::vector<float> pseudo_random(std::size_t count, std::uint32_t seed) {
  std::vector<float> values(count);
  std::uint32_t state = seed;
  for (float& v : values) {
    state = state * 1664525U + 1013904223U;
    v = static_cast<float>(state >> 8) / static_cast<float>(1U << 24) * 2.0F - 1.0F;
  }
  return values;
}

// Column-major C = A B, m x k times k x n.
bool product_matches(Sgemm* sgemm, int m, int n, int k) {
  const auto mm = static_cast<std::size_t>(m);
  const auto nn = static_cast<std::size_t>(n);
  const auto kk = static_cast<std::size_t>(k);
  const std::vector<float> a = pseudo_random(mm * kk, 12345U + static_cast<std::uint32_t>(m));
  const std::vector<float> b = pseudo_random(kk * nn, 54321U + static_cast<std::uint32_t>(n));
  std::vector<float> c(mm * nn, 0.0F);
  const float one = 1.0F;
  const float zero = 0.0F;
  sgemm("N", "N", &m, &n, &k, &one, a.data(), &m, b.data(), &k, &zero, c.data(), &m);
  for (std::size_t j = 0; j < nn; ++j) {
    for (std::size_t i = 0; i < mm; ++i) {
      double exact = 0.0;
      double magnitude = 0.0;
      for (std::size_t p = 0; p < kk; ++p) {
        const double term = static_cast<double>(a[p * mm + i]) * b[j * kk + p];
        exact += term;
        magnitude += std::fabs(term);
      }
      // float32 accumulation in any order stays within k * eps * sum|a b|.
      const double bound = static_cast<double>(k) * 1.2e-7 * magnitude + 1e-6;
      if (!(std::fabs(c[j * mm + i] - exact) <= bound)) return false;
    }
  }
  return true;
}

std::string threading_name(int parallel) {
  switch (parallel) {
    case 0:
      return "sequential";
    case 1:
      return "pthreads";
    case 2:
      return "OpenMP";
    default:
      return "unknown";
  }
}

void set_or_unset(const char* name, const std::optional<std::string>& value) {
  if (value) {
    setenv(name, value->c_str(), 1);
  } else {
    unsetenv(name);
  }
}

}  // namespace

OpenBlas probe_openblas() {
  OpenBlas blas;
  auto* get_config = find_symbol<char*()>("openblas_get_config");
  auto* get_corename = find_symbol<char*()>("openblas_get_corename");
  if (get_config == nullptr || get_corename == nullptr) return blas;
  blas.loaded = true;
  blas.config = get_config();
  blas.core = get_corename();
  blas.dynamic_arch = blas.config.find("DYNAMIC_ARCH") != std::string::npos;
  const std::string prefix = "OpenBLAS ";
  if (blas.config.rfind(prefix, 0) == 0) {
    blas.version =
        blas.config.substr(prefix.size(), blas.config.find(' ', prefix.size()) - prefix.size());
  }
  if (auto* threads = find_symbol<int()>("openblas_get_num_threads")) blas.threads = threads();
  if (auto* parallel = find_symbol<int()>("openblas_get_parallel")) {
    blas.threading = threading_name(parallel());
  }
  return blas;
}

bool openblas_product_matches_reference() {
  auto* sgemm = find_symbol<Sgemm>("sgemm_");
  if (sgemm == nullptr || find_symbol<char*()>("openblas_get_config") == nullptr) return true;
  return product_matches(sgemm, 13, 11, 17) && product_matches(sgemm, 192, 160, 288);
}

CoreEnvironment read_core_environment() {
  CoreEnvironment env;
  env.coretype = environment("OPENBLAS_CORETYPE");
  env.chosen_by_loom = environment("LOOM_OPENBLAS_CHOSEN");
  env.detected = environment("LOOM_OPENBLAS_DETECTED");
  env.rejected = parse_rejected(environment("LOOM_OPENBLAS_REJECTED").value_or(""));
  return env;
}

CoreFacts core_facts(const OpenBlas& blas, const CpuFeatures& cpu) {
  CoreFacts facts;
  facts.loaded_core = blas.core;
  facts.selectable = blas.loaded && blas.dynamic_arch && cpu.architecture == "x86_64";
  facts.candidates = openblas_cores_for(cpu);
  facts.environment = read_core_environment();
  return facts;
}

CoreDecision choose_openblas_core(char** argv) {
  const OpenBlas blas = probe_openblas();
  if (!blas.loaded) return {};
  CoreDecision decision = decide_openblas_core(core_facts(blas, detect_cpu_features()),
                                               openblas_product_matches_reference);
  if (!decision.execute_again) return decision;

  constexpr const char* kVariables[] = {"OPENBLAS_CORETYPE", "LOOM_OPENBLAS_CHOSEN",
                                        "LOOM_OPENBLAS_DETECTED", "LOOM_OPENBLAS_REJECTED"};
  std::vector<std::optional<std::string>> before;
  for (const char* name : kVariables)
    before.push_back(environment(name));
  const std::string rejected = format_rejected(decision.next.rejected);
  set_or_unset(kVariables[0], decision.coretype);
  set_or_unset(kVariables[1], decision.next.chosen_by_loom);
  set_or_unset(kVariables[2], decision.next.detected);
  set_or_unset(kVariables[3],
               rejected.empty() ? std::nullopt : std::optional<std::string>(rejected));
  execv("/proc/self/exe", argv);
  // Still here: the kernels stay as they are. Put the environment back, so
  // that child processes decide afresh, and say why.
  const int error = errno;
  for (std::size_t i = 0; i < before.size(); ++i)
    set_or_unset(kVariables[i], before[i]);
  CoreDecision stay;
  stay.source = CoreSource::openblas;
  stay.warning = true;
  stay.message = fmt::format(
      "BLAS: OpenBLAS runs its {} kernels; Loom could not execute itself again to change them "
      "({}); set OPENBLAS_CORETYPE={} yourself",
      blas.core, std::strerror(error), decision.coretype.value_or(blas.core));
  return stay;
}

}  // namespace loom::hardware
