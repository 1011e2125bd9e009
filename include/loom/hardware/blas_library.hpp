// The BLAS this process loaded, asked through OpenBLAS's own functions
// (looked up at run time, so a binary whose LibTorch brings another BLAS,
// or none, still runs), and the kernel choice Loom makes at start-up
// (see openblas_core.hpp).
#pragma once

#include <string>

#include "loom/hardware/cpu_features.hpp"
#include "loom/hardware/openblas_core.hpp"

namespace loom::hardware {

struct OpenBlas {
  bool loaded = false;  // false: no OpenBLAS in this process
  std::string config;   // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Cooperlake MAX_THREADS=64"
  std::string version;  // "0.3.21"
  std::string core;     // the kernel set in use, "Cooperlake"
  bool dynamic_arch = false;
  int threads = 0;        // OpenBLAS's own thread count
  std::string threading;  // "sequential", "pthreads" or "OpenMP"
};

OpenBlas probe_openblas();

// Multiplies two fixed pseudo-random matrices with the loaded sgemm, at a
// size for OpenBLAS's small-matrix path and one for its blocked kernels,
// and compares each element with a float64 reference within float32's
// rounding bound. True when no OpenBLAS is loaded.
bool openblas_product_matches_reference();

// The environment as it is now (OPENBLAS_CORETYPE, LOOM_OPENBLAS_*).
CoreEnvironment read_core_environment();

// The facts decide_openblas_core needs, for this process.
CoreFacts core_facts(const OpenBlas& blas, const CpuFeatures& cpu);

// Called first thing in main: decides the OpenBLAS core and, when it
// should change, sets the environment and executes this program again
// (same arguments, same PID; never returns then). Otherwise returns the
// decision, whose message the caller logs once logging is set up.
CoreDecision choose_openblas_core(char** argv);

}  // namespace loom::hardware
