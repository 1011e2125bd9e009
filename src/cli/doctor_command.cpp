// `loom doctor`: what `loom --version` says, then what this machine gives
// Loom to compute with: the CPU and its vector and matrix extensions, the
// BLAS with its kernels (and where that choice came from, checked against a
// reference product), threads, and what train.precision: auto picks here.
#include <iostream>
#include <string>
#include <thread>

#include "command.hpp"
#include "versions.hpp"
#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "loom/config/enum_names.hpp"
#include "loom/hardware/blas_library.hpp"
#include "loom/hardware/cpu_features.hpp"
#include "loom/hardware/openblas_core.hpp"
#include "loom/train/compute_setup.hpp"

namespace loom::cli {
namespace {

std::string row(const std::string& name, const std::string& value) {
  return fmt::format("  {:<11} {}\n", name, value);
}

std::string cpu_section(const hardware::CpuFeatures& cpu) {
  std::string text = "CPU\n";
  std::string model = cpu.model_name.empty() ? "unknown" : cpu.model_name;
  if (!cpu.vendor.empty()) {
    model += fmt::format(" ({}, family {}, model {})", cpu.vendor, cpu.family, cpu.model);
  }
  text += row("model", model + ", " + cpu.architecture);
  text += row("extensions", hardware::describe_extensions(cpu));
  text += row("CPUs", fmt::format("{} usable by this process, {} online", train::usable_cpu_count(),
                                  std::thread::hardware_concurrency()));
  return text;
}

std::string blas_section(const hardware::CpuFeatures& cpu) {
  std::string text = "BLAS\n";
  const hardware::OpenBlas blas = hardware::probe_openblas();
  if (!blas.loaded) {
    text += row("library", blas_summary());
    return text;
  }
  text += row("library", blas.config);
  const bool product_matches = hardware::openblas_product_matches_reference();
  const hardware::CoreDecision decision = hardware::decide_openblas_core(
      hardware::core_facts(blas, cpu), [product_matches] { return product_matches; });
  text += row("kernels",
              fmt::format("{} ({})", blas.core, hardware::core_source_name(decision.source)));
  const std::vector<std::string> cores = hardware::openblas_cores_for(cpu);
  if (!cores.empty()) text += row("best here", cores.front());
  text += row("check", product_matches
                           ? "products at 13x11x17 and 192x160x288 match a float64 reference"
                           : "WRONG: a product differs from its float64 reference; set "
                             "OPENBLAS_CORETYPE to another core");
  text += row("threads", fmt::format("{} ({})", blas.threads, blas.threading));
  return text;
}

std::string libtorch_section() {
  std::string text = "LibTorch\n";
  text += row("threads", fmt::format("{} intra-op now; a training run sets run.threads (0: the "
                                     "usable CPUs shared among this node's ranks)",
                                     torch::get_num_threads()));
  text +=
      row("oneDNN", at::hasMKLDNN() ? "yes (bf16 matrix products on the CPU go through it)" : "no");
  text += row("MKL", at::hasMKL() ? "yes" : "no");
  return text;
}

std::string precision_section() {
  std::string text = "Precision (train.precision: auto)\n";
  const train::PrecisionChoice cpu =
      train::choose_precision(config::Precision::automatic, torch::Device(torch::kCPU));
  text += row("cpu", fmt::format("{} ({})", config::enum_name(cpu.precision), cpu.reason));
  if (torch::cuda::is_available()) {
    const train::PrecisionChoice gpu =
        train::choose_precision(config::Precision::automatic, torch::Device(torch::kCUDA, 0));
    text += row("cuda:0", fmt::format("{} ({})", config::enum_name(gpu.precision), gpu.reason));
  }
  return text;
}

ExitCode run_doctor() {
  const hardware::CpuFeatures cpu = hardware::detect_cpu_features();
  std::cout << version_report() << cpu_section(cpu) << blas_section(cpu) << libtorch_section()
            << precision_section() << std::flush;
  return ExitCode::kOk;
}

}  // namespace

void add_doctor_command(CLI::App& app, Command& selected) {
  CLI::App* command = app.add_subcommand(
      "doctor", "what this machine gives Loom: CPU extensions, BLAS kernels, threads, precision");
  command->callback([&selected] { selected = [] { return run_doctor(); }; });
}

}  // namespace loom::cli
